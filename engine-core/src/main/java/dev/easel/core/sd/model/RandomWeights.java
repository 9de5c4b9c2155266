package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.sd.nn.ParamKind;
import dev.easel.core.sd.nn.WeightSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Random parameters, reproducible per key: each key draws from its own generator seeded by (seed, key), so a tensor's
 * values do not depend on which other networks were built. The scheme is the parity model's: weights N(0, 1/fan_in)
 * (order-one activations everywhere, unlike ldm's zero-initialised output convs), embeddings N(0, 0.25), norm scales
 * 1 + N(0, 1e-4), biases N(0, 1e-4).
 */
public final class RandomWeights implements WeightSource {
    private final long seed;
    private final NDManager manager;

    public RandomWeights(long seed, NDManager manager) {
        this.seed = seed;
        this.manager = manager;
    }

    @Override
    public NDArray tensor(String key, long[] shape, ParamKind kind) {
        NDArray raw = manager.create(values(seed, key, shape, kind), new Shape(shape), kind == ParamKind.POSITION_IDS
                ? DataType.INT64 : DataType.FLOAT32);
        // owned by libtorch, not by the direct buffer (views of a buffer-backed array outlive its buffer's owner)
        NDArray owned = raw.duplicate();
        raw.close();
        return owned;
    }

    /** The little-endian bytes of one tensor (float32, or int64 for position ids). */
    public static ByteBuffer values(long seed, String key, long[] shape, ParamKind kind) {
        return values(seed, key, shape, kind, InitScheme.PARITY);
    }

    /** The little-endian bytes of one tensor drawn by {@code scheme}. */
    public static ByteBuffer values(long seed, String key, long[] shape, ParamKind kind, InitScheme scheme) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        if (kind == ParamKind.POSITION_IDS) {
            ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(n * 8)).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < n; i++) {
                b.putLong(i % shape[shape.length - 1]);
            }
            return b.flip();
        }
        SplittableRandom r = new SplittableRandom(seed ^ fnv(key));
        double std;
        double mean = 0;
        if (scheme != InitScheme.PARITY) {
            double[] d = scheme.distribution(key, shape, kind);
            mean = d[0];
            std = d[1];
        } else {
            switch (kind) {
            case WEIGHT -> {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                std = 1 / Math.sqrt(fanIn);
            }
            case EMBEDDING -> std = 0.5;
            case NORM_SCALE -> {
                mean = 1;
                std = 0.01;
            }
            default -> std = 0.01;
            }
        }
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            b.putFloat((float) (mean + std * r.nextGaussian()));
        }
        return b.flip();
    }

    private static long fnv(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte c : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (c & 0xff)) * 0x100000001b3L;
        }
        return h;
    }
}
