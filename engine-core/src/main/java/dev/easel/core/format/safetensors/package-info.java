/**
 * The safetensors format: a strict, lazy, memory-mapped reader and a streaming, atomic writer whose files are
 * byte-identical to those of the reference implementation ({@code huggingface/safetensors}).
 *
 * <p>It lives in the core because every other part of Easel (merges, conversion, training exports) reads and
 * writes it; every header rule of the specification is checked before any tensor is touched, so a hostile or
 * truncated file fails with a message instead of an out-of-memory or a wrong result.
 */
package dev.easel.core.format.safetensors;
