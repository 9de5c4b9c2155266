package dev.easel.plugins.adapter.lycoris;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tiny checkpoints in the real SD1 (ldm) key layout, 8 channels wide, and adapter files written from float arrays:
 * enough of every module kind (attention Linear, 1x1 proj conv, 3x3 resnet conv, sampler convs, time-embedding
 * Linear, norms, text-encoder Linear) to exercise every mapping and delta path through real files.
 */
final class TinyModels {
    static final String TE = "cond_stage_model.transformer.text_model.encoder.layers.0.";
    static final String UNET = "model.diffusion_model.";
    static final String POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids";

    /** A tensor to write: its shape and float values. */
    record T(long[] shape, float[] values) {
        static T of(float[] values, long... shape) {
            return new T(shape, values);
        }
    }

    static Map<String, long[]> sd1Shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (String p : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
            m.put(TE + "self_attn." + p + ".weight", new long[] {8, 8});
            m.put(TE + "self_attn." + p + ".bias", new long[] {8});
        }
        m.put(TE + "mlp.fc1.weight", new long[] {16, 8});
        m.put(TE + "mlp.fc2.weight", new long[] {8, 16});
        m.put(TE + "layer_norm1.weight", new long[] {8});
        String rb = UNET + "input_blocks.1.0.";
        m.put(rb + "in_layers.0.weight", new long[] {8});
        m.put(rb + "in_layers.0.bias", new long[] {8});
        m.put(rb + "in_layers.2.weight", new long[] {8, 8, 3, 3});
        m.put(rb + "in_layers.2.bias", new long[] {8});
        m.put(rb + "emb_layers.1.weight", new long[] {8, 16});
        m.put(rb + "out_layers.3.weight", new long[] {8, 8, 3, 3});
        String at = UNET + "input_blocks.1.1.";
        m.put(at + "proj_in.weight", new long[] {8, 8, 1, 1});
        m.put(at + "transformer_blocks.0.attn1.to_q.weight", new long[] {8, 8});
        m.put(at + "transformer_blocks.0.attn1.to_out.0.weight", new long[] {8, 8});
        m.put(at + "transformer_blocks.0.attn1.to_out.0.bias", new long[] {8});
        m.put(at + "transformer_blocks.0.attn2.to_k.weight", new long[] {8, 12});
        m.put(at + "transformer_blocks.0.ff.net.0.proj.weight", new long[] {32, 8});
        m.put(at + "transformer_blocks.0.ff.net.2.weight", new long[] {8, 16});
        m.put(UNET + "input_blocks.3.0.op.weight", new long[] {8, 8, 3, 3});
        m.put(UNET + "middle_block.1.proj_out.weight", new long[] {8, 8, 1, 1});
        m.put(UNET + "output_blocks.2.1.conv.weight", new long[] {8, 8, 3, 3});
        m.put("first_stage_model.decoder.conv_out.weight", new long[] {3, 8, 3, 3});
        return m;
    }

    /** Writes an fp16 SD1-layout checkpoint with seeded values plus int64 position_ids; returns the values. */
    static Map<String, float[]> writeSd1(Path file, long seed) throws IOException {
        Random random = new Random(seed);
        Map<String, T> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : sd1Shapes().entrySet()) {
            float[] v = new float[(int) count(e.getValue())];
            for (int i = 0; i < v.length; i++) {
                v[i] = half((float) (random.nextGaussian() * 0.5));
            }
            tensors.put(e.getKey(), new T(e.getValue(), v));
        }
        write(file, tensors, DType.F16, Map.of("format", "pt"), true);
        Map<String, float[]> values = new LinkedHashMap<>();
        tensors.forEach((k, t) -> values.put(k, t.values()));
        return values;
    }

    static void write(Path file, Map<String, T> tensors, DType dtype, Map<String, String> metadata) throws IOException {
        write(file, tensors, dtype, metadata, false);
    }

    static void write(Path file, Map<String, T> tensors, DType dtype, Map<String, String> metadata,
                      boolean positionIds) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        if (positionIds) {
            infos.add(new TensorInfo(POSITION_IDS, DType.I64, 1, 77));
        }
        tensors.forEach((k, t) -> infos.add(new TensorInfo(k, dtype, t.shape())));
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, metadata))) {
            if (positionIds) {
                ByteBuffer ids = ByteBuffer.allocate(77 * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 77; i++) {
                    ids.putLong(i);
                }
                w.write(POSITION_IDS, ids.flip());
            }
            for (Map.Entry<String, T> e : tensors.entrySet()) {
                float[] v = e.getValue().values();
                ByteBuffer b = ByteBuffer.allocate(v.length * (dtype == DType.F16 ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    if (dtype == DType.F16) {
                        b.putShort(floatToHalf(f));
                    } else {
                        b.putFloat(f);
                    }
                }
                w.write(e.getKey(), b.flip());
            }
            w.commit();
        }
    }

    static float[] read(SafetensorsReader r, String key) throws IOException {
        TensorInfo info = r.info(key).orElseThrow();
        ByteBuffer bytes = r.read(key).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) info.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (info.dtype()) {
                case F16 -> halfToFloat(bytes.getShort());
                case F32 -> bytes.getFloat();
                case I64 -> bytes.getLong();
                default -> throw new AssertionError(info.dtype());
            };
        }
        return out;
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    static float[] random(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = half((float) (r.nextGaussian() * scale));
        }
        return v;
    }

    /** Rounds through fp16, so that expected values match what an fp16 file holds. */
    static float half(float f) {
        return halfToFloat(floatToHalf(f));
    }

    static short floatToHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (exp <= 0) {
            if (exp < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - exp;
            int half = mant >> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        if (exp >= 31) {
            return (short) (sign | 0x7c00);
        }
        int half = (exp << 10) | (mant >> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }

    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** {@code a (m×k) @ b (k×n)} row-major. */
    static float[] matmul(float[] a, float[] b, int m, int k, int n) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) {
                    s += (double) a[i * k + t] * b[t * n + j];
                }
                c[i * n + j] = (float) s;
            }
        }
        return c;
    }

    private TinyModels() {
    }
}
