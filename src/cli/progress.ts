/// <reference types="node" />
// What `rnn-wasm train` shows while it runs. On a terminal: one progress bar, redrawn in
// place at most ten times a second — step, epoch, ETA, training loss, bits per token on the
// training and held-out text, tokens per second — with a permanent line at every epoch's
// end. Anywhere else (a pipe, a file, CI): one plain log line per logged step and nothing
// else, so logs stay readable.
import { count, duration } from './format.js';

/** Where the run stands, after a step. */
export interface Status {
  step: number;
  totalSteps: number;
  /** From 1. */
  epoch: number;
  epochs: number;
  /** Mean training loss (nats per token) of the recent steps. */
  trainLoss: number;
  /** Loss on the held-out sample at the last logged step, NaN before the first. */
  heldOutLoss: number;
  learningRate: number;
  tokensPerSecond: number;
  /** Estimated time left. */
  etaMs: number;
  elapsedMs: number;
}

/** A writable text stream; a terminal has isTTY and columns. */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;

export class Progress {
  private readonly tty: boolean;
  private shown = false;
  private lastDraw = -Infinity;

  /** `unit` names a token in the output: 'char' or 'word'. */
  constructor(private readonly out: Out, private readonly unit: string) {
    this.tty = out.isTTY === true;
  }

  /** After every step: redraw the bar (terminals only). */
  update(s: Status): void {
    const now = Date.now();
    if (!this.tty || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.draw(s);
  }

  /** After a logged step: a log line (not a terminal), or the bar with the new held-out value. */
  logged(s: Status): void {
    if (this.tty) this.draw(s);
    else this.out.write(this.line(s) + '\n');
  }

  /** At an epoch's end: a permanent line on a terminal (log lines already say it elsewhere). */
  epochEnd(s: Status): void {
    if (this.tty) this.print(`epoch ${s.epoch}/${s.epochs} done: ${this.line(s)}`);
  }

  /** Print a message line, keeping the bar below it. */
  print(text: string): void {
    this.clear();
    this.out.write(text + '\n');
  }

  /** Remove the bar (before the final report). */
  clear(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }

  /** The plain log line of a status. */
  line(s: Status): string {
    return [
      `step ${s.step}/${s.totalSteps}`, `epoch ${s.epoch}/${s.epochs}`, `loss ${s.trainLoss.toFixed(4)}`,
      `${this.bitsName()} ${(s.trainLoss / Math.LN2).toFixed(3)}`,
      `held-out ${Number.isFinite(s.heldOutLoss) ? (s.heldOutLoss / Math.LN2).toFixed(3) : '-'}`,
      `lr ${s.learningRate.toPrecision(3)}`, `${count(s.tokensPerSecond)} tok/s`,
      `elapsed ${duration(s.elapsedMs)}`, `eta ${duration(s.etaMs)}`,
    ].join(' | ');
  }

  private draw(s: Status): void {
    const columns = this.out.columns ?? 100;
    const held = Number.isFinite(s.heldOutLoss) ? (s.heldOutLoss / Math.LN2).toFixed(2) : '-';
    const stats = ` ${Math.floor((100 * s.step) / s.totalSteps)}% · epoch ${s.epoch}/${s.epochs} · ETA ${duration(s.etaMs)} · ` +
      `loss ${s.trainLoss.toFixed(3)} · ${this.bitsName()} ${(s.trainLoss / Math.LN2).toFixed(2)} train, ${held} held-out · ` +
      `${count(s.tokensPerSecond)} tok/s`;
    const head = `step ${s.step}/${s.totalSteps} `;
    const barWidth = Math.max(10, Math.min(30, columns - head.length - stats.length - 1));
    const filled = Math.round((barWidth * s.step) / s.totalSteps);
    const text = head + '█'.repeat(filled) + '░'.repeat(barWidth - filled) + stats;
    this.out.write('\r\x1b[2K' + (text.length > columns - 1 ? text.slice(0, columns - 2) + '…' : text));
    this.shown = true;
  }

  private bitsName(): string {
    return this.unit === 'char' ? 'bpc' : `bits/${this.unit}`;
  }
}
