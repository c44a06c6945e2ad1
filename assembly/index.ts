// rnn-wasm kernels: the export list. Every function is pure over (pointer, size) arguments;
// see the file of each for shapes and math.
export { alloc, free, zero_f32, copy_f32 } from "./memory";
export { gemm, gemm_naive, gemm_nn_by_t, gemm_tn_rows, gemm_nt_w, pack_rows4_t, transpose } from "./gemm";
export { pack_rows4 } from "./dot";
export { softmax_xent, softmax_xent_ls, sigmoid_bce, sigmoid_bce_pw, squared_error } from "./loss";
export { add_bias_rows, add_col_sums, add_col_sums_twice, input_projection, input_grads, pack_recurrent, copy_rows, reverse_steps, gather_steps, recurrent_rows } from "./cells";
export { activation_forward, activation_backward, rnn_forward, rnn_backward, linear_forward, linear_backward } from "./rnn";
export { sigmoid_to, tanh_to } from "./activations";
export { lstm_forward, lstm_backward } from "./lstm";
export { gru_forward, gru_backward } from "./gru";
export { sum_squares, scale, clip_value, sgd_step, sgd_check, adam_step, adam_check, rmsprop_step, rmsprop_check, adagrad_step, adagrad_check } from "./optim";
export { dropout_mask, mul_mask, mul_mask_naive } from "./dropout";
export { masked_softmax_rows, masked_softmax_rows_backward, attention_forward, attention_backward, attention_combine_forward, attention_combine_backward } from "./attention";
export { sample_token } from "./sample";
export { plan_step, plan_feed, plan_choose, plan_token, plan_select, plan_pack } from "./step";
export { head_loss, head_loss_w, head_loss_ls, head_loss_pw } from "./head";
export { embedding_forward, embedding_backward, embedding_backward_naive } from "./embedding";
