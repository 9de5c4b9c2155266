/**
 * The data pipeline of training: kohya dataset configs and {@code N_name} folders, image decoding (PNG, JPEG,
 * WebP), aspect-ratio bucketing, resize/crop/flip, caption processing and the on-disk latent cache.
 */
package dev.easel.core.train.data;
