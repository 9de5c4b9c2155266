package dev.easel.api.model;

/** What a {@link NetworkModule} computes, which decides what an adapter may do to it. */
public enum ModuleKind {
    /** {@code y = x W^T + b}; weight {@code [out, in]}. */
    LINEAR,
    /** 2-d convolution; weight {@code [out, in/groups, kh, kw]}. */
    CONV2D,
    /** A token embedding table; weight {@code [vocab, width]}. */
    EMBEDDING,
    /** Group or layer normalisation; weight {@code [channels]}. */
    NORM
}
