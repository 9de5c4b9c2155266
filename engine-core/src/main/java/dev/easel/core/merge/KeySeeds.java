package dev.easel.core.merge;

import java.nio.charset.StandardCharsets;

/**
 * Derives a per-key seed from the user's seed and the key name, so seeded methods (DARE) give the same tensor for
 * the same key whatever the thread count, the key order or the other keys in the file.
 */
public final class KeySeeds {
    private KeySeeds() {
    }

    /** SplitMix64 of the user seed combined with the FNV-1a hash of the key's UTF-8 bytes. */
    public static long seed(long userSeed, String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(mix(userSeed) ^ h);
    }

    private static long mix(long z) {
        z += 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
