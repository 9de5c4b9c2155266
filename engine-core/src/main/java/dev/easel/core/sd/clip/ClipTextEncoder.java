package dev.easel.core.sd.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.Component;
import dev.easel.core.sd.model.TextEncoderConfig;
import dev.easel.core.sd.nn.Embedding;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.nn.LayerNorm;
import dev.easel.core.sd.nn.Linear;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.Ops;
import dev.easel.core.sd.nn.ParamKind;
import dev.easel.core.sd.nn.WeightSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The CLIP text transformer of SD1 (Hugging Face {@code CLIPTextModel} layout) and SD2 (OpenCLIP layout, its fused
 * {@code in_proj} split into q/k/v at load): token + position embedding, pre-LN blocks with a causal mask, final
 * LayerNorm. Clip skip n takes the output of layer {@code L - n + 1} and applies the final LayerNorm, as
 * AUTOMATIC1111 does; SD2's "penultimate" is clip skip 2.
 */
public final class ClipTextEncoder {
    private final TextEncoderConfig config;
    private final Embedding tokenEmbedding;
    /** SD1's position table as a module (trainable and saved like the other weights); null for OpenCLIP. */
    private final Embedding positionModule;
    /** OpenCLIP's {@code positional_embedding}, a bare parameter; null for SD1. */
    private final NDArray positionParameter;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final NDArray textProjection;
    private final List<Layer> layers = new ArrayList<>();

    public ClipTextEncoder(TextEncoderConfig config, WeightSource source, NetworkState state) {
        this.config = config;
        String p = config.prefix();
        int d = config.width();
        boolean oc = config.openClip();
        tokenEmbedding = new Embedding(spec(oc ? p + "token_embedding" : p + "embeddings.token_embedding",
                "text_model.embeddings.token_embedding", state), config.vocabSize(), d, source);
        layers.add(tokenEmbedding);
        if (oc) {
            positionModule = null;
            positionParameter = source.tensor(p + "positional_embedding",
                    "text_encoder.text_model.embeddings.position_embedding.weight",
                    new long[] {config.maxPositions(), d}, ParamKind.EMBEDDING);
        } else {
            positionModule = new Embedding(spec(p + "embeddings.position_embedding",
                    "text_model.embeddings.position_embedding", state), config.maxPositions(), d, source);
            layers.add(positionModule);
            positionParameter = null;
        }
        for (int i = 0; i < config.layers(); i++) {
            Block b = new Block(config, i, source, state);
            blocks.add(b);
            layers.addAll(b.layers());
        }
        finalNorm = new LayerNorm(spec(oc ? p + "ln_final" : p + "final_layer_norm", "text_model.final_layer_norm",
                state), d, config.layerNormEps(), source);
        layers.add(finalNorm);
        textProjection = oc && config.projectionDim() > 0
                ? source.tensor(p + "text_projection", new long[] {d, config.projectionDim()}, ParamKind.WEIGHT)
                : null;
    }

    private static Layer.Spec spec(String ldm, String diffusers, NetworkState state) {
        return new Layer.Spec(Component.TEXT_ENCODER, ldm, diffusers, state);
    }

    public TextEncoderConfig config() {
        return config;
    }

    /** Weight-bearing modules in checkpoint order. */
    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    public Embedding tokenEmbedding() {
        return tokenEmbedding;
    }

    /** {@code [D, P]}, or {@code null} if the checkpoint has none (SD1 text towers are stored without it). */
    public NDArray textProjection() {
        return textProjection;
    }

    /**
     * Hidden states of {@code ids [B, 77]} (int64), after the final LayerNorm, {@code [B, 77, width]}.
     *
     * @param clipSkip 1 = last layer; n = output of layer L-n+1 (A1111's "clip skip")
     */
    public NDArray encode(NDArray ids, int clipSkip) {
        if (clipSkip < 1 || clipSkip > config.layers()) {
            throw new IllegalArgumentException("clip skip must be between 1 and " + config.layers() + ", not "
                    + clipSkip);
        }
        NDArray ids64 = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        long n = ids64.getShape().get(1);
        NDArray table = positionModule != null ? positionModule.weight() : positionParameter;
        NDArray pos = Ops.local(table.get(new NDIndex("0:{}", n)), ids64);
        NDArray x = tokenEmbedding.apply(ids64).add(pos);
        NDArray mask = causalMask(x.getManager(), (int) n);
        int run = config.layers() - (clipSkip - 1);
        for (int i = 0; i < run; i++) {
            Block b = blocks.get(i);
            NDArray in = x;
            x = Ops.scoped(() -> b.forward(in, mask));
            in.close();
        }
        return finalNorm.apply(x);
    }

    /** The pooled, projected features: final-LN hidden state at each sequence's first EOS, times the projection. */
    public NDArray pooled(NDArray ids, int eosId) {
        if (textProjection == null) {
            throw new UnsupportedOperationException("this text encoder has no text projection");
        }
        NDArray hidden = encode(ids, 1);
        long[] idv = ids.toType(DataType.INT64, false).toLongArray();
        long b = ids.getShape().get(0);
        long n = ids.getShape().get(1);
        List<NDArray> rows = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            int at = (int) n - 1;
            for (int j = 0; j < n; j++) {
                if (idv[(int) (i * n + j)] == eosId) {
                    at = j;
                    break;
                }
            }
            rows.add(hidden.get(new NDIndex("{}, {}, :", i, at)));
        }
        NDArray pooled = rows.size() == 1 ? rows.get(0).expandDims(0)
                : ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(rows.toArray(new NDArray[0])));
        return pooled.matMul(Ops.local(textProjection.duplicate(), pooled));
    }

    private static NDArray causalMask(NDManager manager, int n) {
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[i * n + j] = -Float.MAX_VALUE;
            }
        }
        return manager.create(m, new Shape(n, n));
    }

    /** One pre-LN transformer block. */
    private static final class Block {
        private final LayerNorm ln1;
        private final LayerNorm ln2;
        private final Linear q;
        private final Linear k;
        private final Linear v;
        private final Linear out;
        private final Linear fc1;
        private final Linear fc2;
        private final int heads;
        private final float scale;
        private final boolean quickGelu;

        Block(TextEncoderConfig c, int i, WeightSource source, NetworkState state) {
            int d = c.width();
            heads = c.heads();
            scale = (float) Math.pow((double) d / heads, -0.5);
            quickGelu = c.activation().equals("quick_gelu");
            String hf = "text_model.encoder.layers." + i + ".";
            String diffusersQ = "text_encoder." + hf + "self_attn.q_proj.weight";
            if (c.openClip() && !source.has(c.prefix() + "transformer.resblocks." + i + ".attn.in_proj_weight")
                    && source.has(diffusersQ)) {
                // SD2's text tower from a diffusers folder: q/k/v stored apart under Hugging Face names
                String p = c.prefix() + "transformer.resblocks." + i + ".";
                ln1 = new LayerNorm(spec(p + "ln_1", hf + "layer_norm1", state), d, c.layerNormEps(), source);
                q = new Linear(spec(p + "attn.in_proj.q", hf + "self_attn.q_proj", state), d, d, true, source);
                k = new Linear(spec(p + "attn.in_proj.k", hf + "self_attn.k_proj", state), d, d, true, source);
                v = new Linear(spec(p + "attn.in_proj.v", hf + "self_attn.v_proj", state), d, d, true, source);
                out = new Linear(spec(p + "attn.out_proj", hf + "self_attn.out_proj", state), d, d, true, source);
                ln2 = new LayerNorm(spec(p + "ln_2", hf + "layer_norm2", state), d, c.layerNormEps(), source);
                fc1 = new Linear(spec(p + "mlp.c_fc", hf + "mlp.fc1", state), d, c.intermediate(), true, source);
                fc2 = new Linear(spec(p + "mlp.c_proj", hf + "mlp.fc2", state), c.intermediate(), d, true, source);
            } else if (c.openClip()) {
                String p = c.prefix() + "transformer.resblocks." + i + ".";
                ln1 = new LayerNorm(spec(p + "ln_1", hf + "layer_norm1", state), d, c.layerNormEps(), source);
                NDArray w = source.tensor(p + "attn.in_proj_weight", new long[] {3L * d, d}, ParamKind.WEIGHT);
                NDArray b = source.tensor(p + "attn.in_proj_bias", new long[] {3L * d}, ParamKind.BIAS);
                q = split(p, hf, "q", 0, d, w, b, state);
                k = split(p, hf, "k", 1, d, w, b, state);
                v = split(p, hf, "v", 2, d, w, b, state);
                if (w != null) {
                    w.close();
                    b.close();
                }
                out = new Linear(spec(p + "attn.out_proj", hf + "self_attn.out_proj", state), d, d, true, source);
                ln2 = new LayerNorm(spec(p + "ln_2", hf + "layer_norm2", state), d, c.layerNormEps(), source);
                fc1 = new Linear(spec(p + "mlp.c_fc", hf + "mlp.fc1", state), d, c.intermediate(), true, source);
                fc2 = new Linear(spec(p + "mlp.c_proj", hf + "mlp.fc2", state), c.intermediate(), d, true, source);
            } else {
                String p = c.prefix() + "encoder.layers." + i + ".";
                q = new Linear(spec(p + "self_attn.q_proj", hf + "self_attn.q_proj", state), d, d, true, source);
                k = new Linear(spec(p + "self_attn.k_proj", hf + "self_attn.k_proj", state), d, d, true, source);
                v = new Linear(spec(p + "self_attn.v_proj", hf + "self_attn.v_proj", state), d, d, true, source);
                out = new Linear(spec(p + "self_attn.out_proj", hf + "self_attn.out_proj", state), d, d, true, source);
                ln1 = new LayerNorm(spec(p + "layer_norm1", hf + "layer_norm1", state), d, c.layerNormEps(), source);
                fc1 = new Linear(spec(p + "mlp.fc1", hf + "mlp.fc1", state), d, c.intermediate(), true, source);
                fc2 = new Linear(spec(p + "mlp.fc2", hf + "mlp.fc2", state), c.intermediate(), d, true, source);
                ln2 = new LayerNorm(spec(p + "layer_norm2", hf + "layer_norm2", state), d, c.layerNormEps(), source);
            }
        }

        /** One third of OpenCLIP's fused projection, as its own leaf tensors (rows q, then k, then v). */
        private static Linear split(String p, String hf, String which, int part, int d, NDArray w, NDArray b,
                                    NetworkState state) {
            Layer.Spec s = new Layer.Spec(Component.TEXT_ENCODER, p + "attn.in_proj." + which,
                    hf + "self_attn." + which + "_proj", state, true);
            if (w == null) {
                return new Linear(s, d, d, null, null);
            }
            // clones, so each projection is its own leaf and owns its memory
            NDArray wv = w.get(new NDIndex("{}:{}", (long) part * d, (long) (part + 1) * d));
            NDArray bv = b.get(new NDIndex("{}:{}", (long) part * d, (long) (part + 1) * d));
            NDArray ws = wv.duplicate();
            NDArray bs = bv.duplicate();
            wv.close();
            bv.close();
            return new Linear(s, d, d, ws, bs);
        }

        List<Layer> layers() {
            return List.of(q, k, v, out, ln1, fc1, fc2, ln2);
        }

        NDArray forward(NDArray x, NDArray mask) {
            NDArray h = ln1.apply(x);
            NDArray a = Ops.attention(q.apply(h), k.apply(h), v.apply(h), heads, scale, mask, true);
            x = x.add(out.apply(a));
            h = ln2.apply(x);
            h = fc1.apply(h);
            h = quickGelu ? Ops.quickGelu(h) : Ops.gelu(h);
            return x.add(fc2.apply(h));
        }
    }
}
