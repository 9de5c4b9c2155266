/**
 * The {@code textual-inversion/kohya} training method: a new word in the tokenizer and the text encoder's embedding
 * table, trained alone (kohya's {@code train_textual_inversion.py} keys, kohya object/style templates or A1111
 * template files), saved as AUTOMATIC1111 {@code .pt}, kohya {@code emb_params} and diffusers {@code learned_embeds}.
 */
package dev.easel.plugins.train.ti;
