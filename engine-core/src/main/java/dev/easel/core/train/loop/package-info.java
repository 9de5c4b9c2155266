/**
 * The training loop: noise schedule and diffusion loss (ε/v, min-SNR-γ, noise offset), the step driver over a
 * method's session, checkpoints that resume exactly, the JSONL log and the loss-curve PNG.
 */
package dev.easel.core.train.loop;
