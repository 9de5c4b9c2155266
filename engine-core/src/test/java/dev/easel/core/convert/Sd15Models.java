package dev.easel.core.convert;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tiny SD models in the exact key layout of real ones: the SD 1.5 key list (sd15-ldm-keys.txt, from sd-mecha) with
 * every dimension cut to at most 2 except those detection reads (conv_in channels, the 768 context width), and an
 * SD2 variant (1024 context, linear proj_in, OpenCLIP text encoder).
 */
public final class Sd15Models {
    private Sd15Models() {
    }

    /** The real SD 1.5 keys with their full shapes and dtypes (EMA and schedule buffers included). */
    public static List<TensorInfo> realKeys() throws IOException {
        List<TensorInfo> out = new ArrayList<>();
        try (InputStream in = Sd15Models.class.getResourceAsStream("/formats/sd15-ldm-keys.txt");
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] f = line.split(" ");
                String dims = f[1].substring(1, f[1].length() - 1);
                long[] shape = dims.isEmpty() ? new long[0]
                        : java.util.Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
                DType dtype = switch (f[2]) {
                    case "int64" -> DType.I64;
                    case "int32" -> DType.I32;
                    default -> DType.F32;
                };
                out.add(new TensorInfo(f[0], dtype, shape));
            }
        }
        return out;
    }

    /** The SD 1.5 keys with tiny shapes. */
    public static List<TensorInfo> tinySd1(boolean ema, int inChannels) throws IOException {
        List<TensorInfo> out = new ArrayList<>();
        for (TensorInfo t : realKeys()) {
            if (!ema && t.name().startsWith("model_ema.")) {
                continue;
            }
            long[] s = t.shape();
            for (int i = 0; i < s.length; i++) {
                boolean convIn = t.name().endsWith("input_blocks.0.0.weight") || t.name().endsWith("input_blocks00weight");
                boolean keep = (i == 1 && convIn)
                        || (i == 1 && t.name().matches(".*attn2\\.to_[kv]\\.weight") && s[i] == 768)
                        || (i == 1 && t.name().matches("model_ema\\..*attn2to_[kv]weight"));
                s[i] = keep ? (convIn ? inChannels : s[i]) : Math.min(s[i], 2);
            }
            out.add(new TensorInfo(t.name(), t.dtype(), s));
        }
        return out;
    }

    /** A tiny SD2: SD1's UNet with 1024 context and linear projections, and an OpenCLIP-H-layout text encoder. */
    public static List<TensorInfo> tinySd2() throws IOException {
        List<TensorInfo> out = new ArrayList<>();
        for (TensorInfo t : tinySd1(false, 4)) {
            String n = t.name();
            if (n.startsWith("cond_stage_model.")) {
                continue;
            }
            if (n.matches(".*attn2\\.to_[kv]\\.weight")) {
                out.add(new TensorInfo(n, t.dtype(), t.dim(0), 1024));
            } else if (n.matches(".*proj_(in|out)\\.weight") && n.startsWith("model.")) {
                out.add(new TensorInfo(n, t.dtype(), t.dim(0), t.dim(1)));
            } else {
                out.add(t);
            }
        }
        String oc = "cond_stage_model.model.";
        int d = 4;
        out.add(new TensorInfo(oc + "token_embedding.weight", DType.F32, 10, d));
        out.add(new TensorInfo(oc + "positional_embedding", DType.F32, 3, d));
        for (int l = 0; l < 3; l++) {
            String b = oc + "transformer.resblocks." + l + ".";
            out.add(new TensorInfo(b + "ln_1.weight", DType.F32, d));
            out.add(new TensorInfo(b + "ln_1.bias", DType.F32, d));
            out.add(new TensorInfo(b + "attn.in_proj_weight", DType.F32, 3 * d, d));
            out.add(new TensorInfo(b + "attn.in_proj_bias", DType.F32, 3 * d));
            out.add(new TensorInfo(b + "attn.out_proj.weight", DType.F32, d, d));
            out.add(new TensorInfo(b + "attn.out_proj.bias", DType.F32, d));
            out.add(new TensorInfo(b + "ln_2.weight", DType.F32, d));
            out.add(new TensorInfo(b + "ln_2.bias", DType.F32, d));
            out.add(new TensorInfo(b + "mlp.c_fc.weight", DType.F32, 4 * d, d));
            out.add(new TensorInfo(b + "mlp.c_fc.bias", DType.F32, 4 * d));
            out.add(new TensorInfo(b + "mlp.c_proj.weight", DType.F32, d, 4 * d));
            out.add(new TensorInfo(b + "mlp.c_proj.bias", DType.F32, d));
        }
        out.add(new TensorInfo(oc + "ln_final.weight", DType.F32, d));
        out.add(new TensorInfo(oc + "ln_final.bias", DType.F32, d));
        out.add(new TensorInfo(oc + "text_projection", DType.F32, d, 6));
        out.add(new TensorInfo(oc + "logit_scale", DType.F32));
        return out;
    }

    /** Random (seeded) little-endian bytes for a tensor; integer tensors get 0, 1, 2, ... */
    public static ByteBuffer values(TensorInfo t, Random random) {
        ByteBuffer b = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        long n = t.elementCount();
        for (int i = 0; i < n; i++) {
            switch (t.dtype()) {
                case F32 -> b.putFloat((float) random.nextGaussian());
                case I64 -> b.putLong(i);
                case I32 -> b.putInt(i);
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return b.flip();
    }

    /** Writes the tensors with seeded random values as safetensors. */
    public static Path writeSafetensors(Path file, List<TensorInfo> tensors, long seed) throws IOException {
        Random random = new Random(seed);
        try (TensorSink sink = SafetensorsWriter.create(file, new WritePlan(tensors, Map.of()))) {
            for (TensorInfo t : tensors) {
                sink.write(t.name(), values(t, random));
            }
            sink.commit();
        }
        return file;
    }
}
