package dev.easel.plugins.merge.taskvectors;

import java.util.function.IntPredicate;

/**
 * Ways of zeroing most entries of a delta: magnitude trimming (TIES) in the two conventions in use, and DARE's random
 * drop with its rescales. All work in place on float32 arrays.
 */
final class Sparsify {
    /** How DARE scales the entries it keeps. */
    enum Rescale {
        /** Divide by the keep probability {@code 1 - p} (the DARE paper, sd-mecha, mergekit before 2025-02). */
        PAPER,
        /** Match the L1 norm of the original delta (mergekit since PR #505, 2025-02). */
        L1,
        /** Keep the surviving entries as they are. */
        NONE
    }

    private Sparsify() {
    }

    /**
     * Keeps exactly {@code floor(k * n)} entries of largest magnitude (mergekit's {@code magnitude}; at least one
     * when {@code k > 0}), ties at the threshold going to the lower index; zeroes the rest.
     */
    static void keepTopExact(float[] d, double k) {
        int n = d.length;
        if (k >= 1.0 || n == 0) {
            return;
        }
        int keep = (int) Math.floor(k * n);
        if (k > 0 && keep == 0) {
            keep = 1;
        }
        if (keep == 0) {
            java.util.Arrays.fill(d, 0f);
            return;
        }
        Rank r = rank(d, n - keep);
        float threshold = r.value();
        int equalAllowed = keep - (n - r.below() - r.equal());
        if (equalAllowed == r.equal()) {
            // the usual case (distinct magnitudes at the threshold): a branch-free pass
            for (int i = 0; i < n; i++) {
                d[i] = Math.abs(d[i]) >= threshold ? d[i] : 0f;
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            float a = Math.abs(d[i]);
            if (a > threshold) {
                continue;
            }
            if (a == threshold && equalAllowed > 0) {
                equalAllowed--;
                continue;
            }
            d[i] = 0f;
        }
    }

    /**
     * sd-mecha's {@code filter_top_k} (and the TIES authors' {@code topk_values_mask}): with
     * {@code m = max(floor((1 - k) * n), 1)}, keeps every entry whose magnitude is at least the m-th smallest
     * magnitude, which is {@code n - m + 1} entries when magnitudes are distinct.
     */
    static void keepTopThreshold(float[] d, double k) {
        int n = d.length;
        if (n == 0) {
            return;
        }
        int m = Math.max((int) Math.floor((1.0 - k) * n), 1);
        float threshold = kthSmallestMagnitude(d, m - 1);
        for (int i = 0; i < n; i++) {
            if (Math.abs(d[i]) < threshold) {
                d[i] = 0f;
            }
        }
    }

    /**
     * DARE: zeroes the entries {@code keep} rejects and rescales the others.
     *
     * @param p the drop probability the mask was drawn with
     */
    static void dropAndRescale(float[] d, IntPredicate keep, double p, Rescale rescale) {
        double l1Before = 0;
        double l1After = 0;
        for (int i = 0; i < d.length; i++) {
            l1Before += Math.abs(d[i]);
            if (!keep.test(i)) {
                d[i] = 0f;
            } else {
                l1After += Math.abs(d[i]);
            }
        }
        double scale;
        switch (rescale) {
            case PAPER:
                scale = p >= 1.0 ? 0.0 : 1.0 / (1.0 - p);
                break;
            case L1:
                scale = l1Before < 1e-7 || l1After < 1e-7 ? 1.0 : l1Before / l1After;
                break;
            default:
                scale = 1.0;
        }
        if (scale != 1.0) {
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) (d[i] * scale);
            }
        }
    }

    /**
     * The DARE keep mask of one delta: entry {@code i} is kept when a uniform draw, a pure function of
     * {@code (seed, i)}, is below {@code 1 - p}. Being counter-based rather than sequential, the mask does not depend
     * on how the tensor is traversed, so it is the same whatever the thread count or slicing.
     */
    static IntPredicate bernoulliKeep(long seed, double p) {
        double keepProbability = 1.0 - p;
        return i -> uniform(seed, i) < keepProbability;
    }

    /** A uniform double in [0, 1) from SplitMix64 of the seed and the index. */
    static double uniform(long seed, long index) {
        return (mix(seed + index * 0x9e3779b97f4a7c15L) >>> 11) * 0x1.0p-53;
    }

    /** The seed of model {@code j}'s mask, from the key's seed. */
    static long modelSeed(long keySeed, int j) {
        return mix(keySeed ^ mix(j + 1L));
    }

    static long mix(long z) {
        z += 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * The magnitude of rank {@code k} (0-based, ascending) among {@code |d|}, without copying or reordering
     * {@code d}: a two-pass radix select on the bits of {@code |d|}, which order like the values for non-negative
     * floats (NaN above infinity). Linear time, 256 KiB of counters, whatever the tensor's size.
     */
    static float kthSmallestMagnitude(float[] d, int k) {
        return rank(d, k).value();
    }

    /**
     * The magnitude of rank {@code k} with how many magnitudes are below it and equal to it.
     *
     * @param value the magnitude
     * @param below how many entries have a smaller magnitude
     * @param equal how many have exactly this magnitude
     */
    record Rank(float value, int below, int equal) {
    }

    static Rank rank(float[] d, int k) {
        int[] counts = new int[1 << 16];
        for (float v : d) {
            counts[(Float.floatToRawIntBits(v) & 0x7fffffff) >>> 16]++;
        }
        int high = 0;
        int rank = k;
        int below = 0;
        while (counts[high] <= rank) {
            rank -= counts[high];
            below += counts[high];
            high++;
        }
        java.util.Arrays.fill(counts, 0);
        for (float v : d) {
            int bits = Float.floatToRawIntBits(v) & 0x7fffffff;
            if (bits >>> 16 == high) {
                counts[bits & 0xffff]++;
            }
        }
        int low = 0;
        while (counts[low] <= rank) {
            rank -= counts[low];
            below += counts[low];
            low++;
        }
        return new Rank(Float.intBitsToFloat(high << 16 | low), below, counts[low]);
    }
}
