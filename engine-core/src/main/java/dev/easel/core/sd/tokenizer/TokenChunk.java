package dev.easel.core.sd.tokenizer;

/**
 * One 77-token window the text encoder reads: BOS, 75 prompt tokens (padded), EOS; with A1111's per-token weights
 * (1.0 on BOS, EOS and padding).
 */
public record TokenChunk(int[] ids, float[] weights) {
}
