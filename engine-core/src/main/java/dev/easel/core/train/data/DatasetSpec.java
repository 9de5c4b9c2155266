package dev.easel.core.train.data;

import java.util.List;

/**
 * One kohya dataset: its size and bucketing options, batch size and subsets. Batches never mix datasets or
 * buckets.
 */
public record DatasetSpec(int width, int height, int batchSize, boolean enableBucket, int minBucketReso,
                          int maxBucketReso, int bucketResoSteps, boolean bucketNoUpscale, List<Subset> subsets) {
    public DatasetSpec {
        subsets = List.copyOf(subsets);
    }

    /** The bucketing of this dataset. */
    public Buckets buckets() {
        return enableBucket ? Buckets.bucketed(width, height, minBucketReso, maxBucketReso, bucketResoSteps,
                bucketNoUpscale) : Buckets.single(width, height);
    }
}
