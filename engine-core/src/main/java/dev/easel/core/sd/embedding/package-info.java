/**
 * Textual-inversion embeddings at sampling time: {@link dev.easel.core.sd.embedding.EmbeddingFile} reads the files
 * AUTOMATIC1111, kohya and diffusers write (torch or safetensors, decided by content), and
 * {@link dev.easel.core.sd.hooks.SdNetworkHooks#addEmbedding} makes their words part of the prompt vocabulary.
 */
package dev.easel.core.sd.embedding;
