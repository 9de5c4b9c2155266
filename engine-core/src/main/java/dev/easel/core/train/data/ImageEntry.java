package dev.easel.core.train.data;

import java.nio.file.Path;

/**
 * One training image after scanning.
 *
 * @param index       position in the dataset's image list (stable across runs for the same folders)
 * @param path        the image file
 * @param caption     the caption file's text, or the subset's class tokens
 * @param dataset     index of its dataset
 * @param subset      its subset's options
 * @param bucket      the bucket it trains in
 * @param contentHash sha256 of the file's bytes (the latent cache key), or {@code null} when not cached
 */
public record ImageEntry(int index, Path path, String caption, int dataset, Subset subset, Bucket bucket,
                         String contentHash) {
}
