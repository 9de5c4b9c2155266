package dev.easel.plugins.adapter.lycoris;

/**
 * LyCORIS's dimension splits ({@code functional/general.py}): {@code factorization} picks the LoKr Kronecker factors
 * and the Diag-OFT block size, {@code power2factorization} the BOFT block size and count. Trainers creating these
 * adapters must use exactly these rules, or their files will not match LyCORIS's shapes.
 */
public final class Factorization {
    private Factorization() {
    }

    /**
     * {@code (small, large)} with {@code small·large = dimension}: {@code factor} itself when it divides, otherwise the
     * divisor pair closest to √dimension whose small side does not exceed {@code factor} ({@code -1}: unlimited).
     */
    public static int[] factorization(int dimension, int factor) {
        if (factor > 0 && dimension % factor == 0) {
            int m = factor;
            int n = dimension / factor;
            return m > n ? new int[] {n, m} : new int[] {m, n};
        }
        int limit = factor < 0 ? dimension : factor;
        int m = 1;
        int n = dimension;
        int length = m + n;
        while (m < n) {
            int newM = m + 1;
            while (dimension % newM != 0) {
                newM++;
            }
            int newN = dimension / newM;
            if (newM + newN > length || newM > limit) {
                break;
            }
            m = newM;
            n = newN;
        }
        return m > n ? new int[] {n, m} : new int[] {m, n};
    }

    /**
     * {@code (blockSize, blockCount)} for BOFT: an even block size of at most {@code factor} with a power-of-two block
     * count, the largest such size; {@code null} when none exists (320 with factor 4).
     */
    public static int[] power2factorization(int dimension, int factor) {
        int limit = factor == -1 ? dimension : factor;
        int m = 0;
        int n = 0;
        while (m <= limit) {
            m += 2;
            while (dimension % m != 0 && m < dimension) {
                m += 2;
            }
            if (m > limit) {
                break;
            }
            if (Integer.bitCount(dimension / m) == 1) {
                n = dimension / m;
            }
        }
        return n == 0 ? null : new int[] {dimension / n, n};
    }

    /** The number of butterfly stages for a block count: {@code log2(blocks) + 1}. */
    public static int boftStages(int blockCount) {
        return Integer.numberOfTrailingZeros(blockCount) + 1;
    }
}
