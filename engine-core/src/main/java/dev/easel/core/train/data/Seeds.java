package dev.easel.core.train.data;

/**
 * Derives independent seeds from the job seed and counters (epoch, step, position). Every random choice of a job
 * is a pure function of these numbers, which is what makes resume exact without saving generator state.
 */
public final class Seeds {
    private Seeds() {
    }

    /** A well-mixed seed of the parts (SplitMix64 finaliser over a running hash). */
    public static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            h = finish(h ^ finish(p + 0x632BE59BD9B4E019L));
        }
        return h;
    }

    private static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
