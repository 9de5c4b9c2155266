package dev.easel.core.sd.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.model.Component;
import dev.easel.api.training.ContextHook;
import dev.easel.core.sd.model.UNetConfig;
import dev.easel.core.sd.nn.Conv2d;
import dev.easel.core.sd.nn.GroupNorm;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.nn.LayerNorm;
import dev.easel.core.sd.nn.Linear;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.Ops;
import dev.easel.core.sd.nn.WeightSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * ldm's {@code openaimodel.UNetModel} with spatial transformers, as SD1.x/SD2.x configure it: the block structure
 * follows the config (levels, res blocks, attention resolutions, heads, conv or linear {@code proj_in}), so the tiny
 * parity model and SD1.5 share every line. Keys are {@code model.diffusion_model.*}; each layer also carries its
 * diffusers name.
 */
public final class UNet {
    static final String PREFIX = "model.diffusion_model.";
    private final UNetConfig config;
    private final List<Layer> layers = new ArrayList<>();
    private final List<ContextHook> contextHooks = new CopyOnWriteArrayList<>();
    private final Linear timeEmbed0;
    private final Linear timeEmbed2;
    private final List<List<Block>> inputBlocks = new ArrayList<>();
    private final List<Block> middle = new ArrayList<>();
    private final List<List<Block>> outputBlocks = new ArrayList<>();
    private final GroupNorm outNorm;
    private final Conv2d outConv;
    private final NetworkState state;
    /** Only during construction: the networks must not keep the checkpoint reachable. */
    private WeightSource source;

    /** One element of an ldm {@code TimestepEmbedSequential}. */
    interface Block {
        NDArray forward(NDArray x, NDArray emb, NDArray context);
    }

    public UNet(UNetConfig c, WeightSource source, NetworkState state) {
        this.config = c;
        this.state = state;
        this.source = source;
        int mc = c.modelChannels();
        int te = c.timeEmbedDim();
        timeEmbed0 = add(new Linear(spec("time_embed.0", "time_embedding.linear_1"), mc, te, true, source));
        timeEmbed2 = add(new Linear(spec("time_embed.2", "time_embedding.linear_2"), te, te, true, source));
        int levels = c.channelMult().size();
        int r = c.numResBlocks();
        inputBlocks.add(List.of(conv3(add(new Conv2d(spec("input_blocks.0.0", "conv_in"), c.inChannels(), mc, 3, 1, 1,
                source)))));
        Deque<Integer> skipChannels = new ArrayDeque<>();
        skipChannels.push(mc);
        int ch = mc;
        int ds = 1;
        int index = 1;
        for (int level = 0; level < levels; level++) {
            int out = mc * c.channelMult().get(level);
            for (int j = 0; j < r; j++) {
                String ldm = "input_blocks." + index + ".";
                String dif = "down_blocks." + level + ".";
                List<Block> blocks = new ArrayList<>();
                blocks.add(new ResBlock(ldm + "0.", dif + "resnets." + j + ".", ch, out));
                ch = out;
                if (c.attentionResolutions().contains(ds)) {
                    blocks.add(new SpatialTransformer(ldm + "1.", dif + "attentions." + j + ".", ch,
                            c.transformerDepth().get(level)));
                }
                inputBlocks.add(blocks);
                skipChannels.push(ch);
                index++;
            }
            if (level != levels - 1) {
                Conv2d down = add(new Conv2d(spec("input_blocks." + index + ".0.op",
                        "down_blocks." + level + ".downsamplers.0.conv"), ch, ch, 3, 2, 1, source));
                inputBlocks.add(List.of(conv3(down)));
                skipChannels.push(ch);
                ds *= 2;
                index++;
            }
        }
        int midDepth = c.transformerDepth().get(levels - 1);
        middle.add(new ResBlock("middle_block.0.", "mid_block.resnets.0.", ch, ch));
        middle.add(new SpatialTransformer("middle_block.1.", "mid_block.attentions.0.", ch, midDepth));
        middle.add(new ResBlock("middle_block.2.", "mid_block.resnets.1.", ch, ch));
        index = 0;
        for (int level = levels - 1; level >= 0; level--) {
            int up = levels - 1 - level;
            int out = mc * c.channelMult().get(level);
            for (int i = 0; i <= r; i++) {
                String ldm = "output_blocks." + index + ".";
                String dif = "up_blocks." + up + ".";
                int skip = skipChannels.pop();
                List<Block> blocks = new ArrayList<>();
                blocks.add(new ResBlock(ldm + "0.", dif + "resnets." + i + ".", ch + skip, out));
                ch = out;
                if (c.attentionResolutions().contains(ds)) {
                    blocks.add(new SpatialTransformer(ldm + "1.", dif + "attentions." + i + ".", ch,
                            c.transformerDepth().get(level)));
                }
                if (level != 0 && i == r) {
                    Conv2d conv = add(new Conv2d(spec(ldm + blocks.size() + ".conv", dif + "upsamplers.0.conv"),
                            ch, ch, 3, 1, 1, source));
                    blocks.add((x, emb, ctx) -> conv.apply(Ops.upsampleNearest2x(x)));
                    ds /= 2;
                }
                outputBlocks.add(blocks);
                index++;
            }
        }
        outNorm = add(new GroupNorm(spec("out.0", "conv_norm_out"), 32, ch, 1e-5f, source));
        outConv = add(new Conv2d(spec("out.2", "conv_out"), ch, c.outChannels(), 3, 1, 1, source));
        this.source = null;
    }

    private static Block conv3(Conv2d conv) {
        return (x, emb, ctx) -> conv.apply(x);
    }

    private Layer.Spec spec(String ldm, String diffusers) {
        return new Layer.Spec(Component.UNET, PREFIX + ldm, diffusers, state);
    }

    private <T extends Layer> T add(T layer) {
        layers.add(layer);
        return layer;
    }

    public UNetConfig config() {
        return config;
    }

    /** Weight-bearing modules in checkpoint order. */
    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** Hooks that transform the context before every cross-attention K/V projection, applied in order. */
    public void addContextHook(ContextHook hook) {
        contextHooks.add(hook);
    }

    /**
     * Predicts noise (or v) for {@code x [B, C, H, W]} at timesteps {@code t [B]} with {@code context [B, N, D]}.
     * H and W must be multiples of 2^(levels-1).
     */
    public NDArray forward(NDArray x, NDArray t, NDArray context) {
        NDArray emb = timestepEmbedding(t.toType(DataType.FLOAT32, false), config.modelChannels());
        emb = timeEmbed2.apply(Ops.silu(timeEmbed0.apply(emb)));
        NDArray embedding = emb;
        Deque<NDArray> skips = new ArrayDeque<>();
        NDArray h = x;
        for (List<Block> blocks : inputBlocks) {
            h = run(blocks, h, embedding, context);
            skips.push(h);
        }
        h = run(middle, h, embedding, context);
        for (List<Block> blocks : outputBlocks) {
            NDArray skip = skips.pop();
            NDArray in = h;
            h = Ops.scoped(() -> run(blocks, in.concat(skip, 1), embedding, context));
            Ops.release(in, x);
            Ops.release(skip, x);
        }
        NDArray last = h;
        NDArray out = Ops.scoped(() -> outConv.apply(Ops.silu(outNorm.apply(last))));
        Ops.release(last, x);
        return out;
    }

    private static NDArray run(List<Block> blocks, NDArray h, NDArray emb, NDArray context) {
        return Ops.scoped(() -> {
            NDArray y = h;
            for (Block b : blocks) {
                y = b.forward(y, emb, context);
            }
            return y;
        });
    }

    /** ldm's sinusoidal embedding: {@code [cos(t·f), sin(t·f)]}, f_i = exp(-ln(10000)·i/half), in float32. */
    static NDArray timestepEmbedding(NDArray t, int dim) {
        int half = dim / 2;
        NDArray freqs = t.getManager().arange(0f, (float) half, 1f, DataType.FLOAT32)
                .mul((float) -Math.log(10000)).div((float) half).exp();
        NDArray args = t.reshape(-1, 1).mul(freqs.reshape(1, -1));
        NDArray emb = args.cos().concat(args.sin(), 1);
        if (dim % 2 == 1) {
            emb = emb.concat(t.getManager().zeros(new ai.djl.ndarray.types.Shape(emb.getShape().get(0), 1)), 1);
        }
        return emb;
    }

    /** ResBlock: GN → SiLU → conv, + time embedding, GN → SiLU → conv, + skip (1×1 conv when widths differ). */
    private final class ResBlock implements Block {
        private final GroupNorm norm1;
        private final Conv2d conv1;
        private final Linear embProj;
        private final GroupNorm norm2;
        private final Conv2d conv2;
        private final Conv2d skip;

        ResBlock(String ldm, String dif, int in, int out) {
            norm1 = add(new GroupNorm(spec(ldm + "in_layers.0", dif + "norm1"), 32, in, 1e-5f, source));
            conv1 = add(new Conv2d(spec(ldm + "in_layers.2", dif + "conv1"), in, out, 3, 1, 1, source));
            embProj = add(new Linear(spec(ldm + "emb_layers.1", dif + "time_emb_proj"), config.timeEmbedDim(), out,
                    true, source));
            norm2 = add(new GroupNorm(spec(ldm + "out_layers.0", dif + "norm2"), 32, out, 1e-5f, source));
            conv2 = add(new Conv2d(spec(ldm + "out_layers.3", dif + "conv2"), out, out, 3, 1, 1, source));
            skip = in == out ? null : add(new Conv2d(spec(ldm + "skip_connection", dif + "conv_shortcut"), in, out,
                    1, 1, 0, source));
        }

        @Override
        public NDArray forward(NDArray x, NDArray emb, NDArray context) {
            NDArray h = conv1.apply(Ops.silu(norm1.apply(x)));
            NDArray e = embProj.apply(Ops.silu(emb));
            h = h.add(e.reshape(e.getShape().get(0), e.getShape().get(1), 1, 1));
            h = conv2.apply(Ops.silu(norm2.apply(h)));
            return (skip == null ? x : skip.apply(x)).add(h);
        }
    }

    /** GN → proj_in → transformer blocks over H·W tokens → proj_out, + input. */
    private final class SpatialTransformer implements Block {
        private final GroupNorm norm;
        private final Layer projIn;
        private final List<TransformerBlock> blocks = new ArrayList<>();
        private final Layer projOut;
        private final boolean linear;

        SpatialTransformer(String ldm, String dif, int ch, int depth) {
            linear = config.useLinearInTransformer();
            int heads = config.headsAt(ch);
            int inner = ch / heads * heads;
            norm = add(new GroupNorm(spec(ldm + "norm", dif + "norm"), 32, ch, 1e-6f, source));
            projIn = add(linear ? new Linear(spec(ldm + "proj_in", dif + "proj_in"), ch, inner, true, source)
                    : new Conv2d(spec(ldm + "proj_in", dif + "proj_in"), ch, inner, 1, 1, 0, source));
            for (int d = 0; d < depth; d++) {
                blocks.add(new TransformerBlock(ldm + "transformer_blocks." + d + ".",
                        dif + "transformer_blocks." + d + ".", inner, heads));
            }
            projOut = add(linear ? new Linear(spec(ldm + "proj_out", dif + "proj_out"), inner, ch, true, source)
                    : new Conv2d(spec(ldm + "proj_out", dif + "proj_out"), inner, ch, 1, 1, 0, source));
        }

        @Override
        public NDArray forward(NDArray x, NDArray emb, NDArray context) {
            long[] s = x.getShape().getShape();
            NDArray h = norm.apply(x);
            if (!linear) {
                h = projIn.apply(h);
            }
            long c = h.getShape().get(1);
            h = h.reshape(s[0], c, s[2] * s[3]).transpose(0, 2, 1);
            if (linear) {
                h = projIn.apply(h);
            }
            for (TransformerBlock b : blocks) {
                h = b.forward(h, context);
            }
            if (linear) {
                h = projOut.apply(h);
            }
            h = h.transpose(0, 2, 1).reshape(s[0], h.getShape().get(2), s[2], s[3]);
            if (!linear) {
                h = projOut.apply(h);
            }
            return h.add(x);
        }
    }

    /** Self-attention, cross-attention on the context, GEGLU feed-forward; each pre-LN with a residual. */
    private final class TransformerBlock {
        private final LayerNorm norm1;
        private final LayerNorm norm2;
        private final LayerNorm norm3;
        private final Linear q1;
        private final Linear k1;
        private final Linear v1;
        private final Linear o1;
        private final Linear q2;
        private final Linear k2;
        private final Linear v2;
        private final Linear o2;
        private final Linear ffIn;
        private final Linear ffOut;
        private final int heads;
        private final float scale;

        TransformerBlock(String ldm, String dif, int dim, int heads) {
            this.heads = heads;
            this.scale = (float) Math.pow((double) dim / heads, -0.5);
            int ctx = config.contextDim();
            q1 = add(new Linear(spec(ldm + "attn1.to_q", dif + "attn1.to_q"), dim, dim, false, source));
            k1 = add(new Linear(spec(ldm + "attn1.to_k", dif + "attn1.to_k"), dim, dim, false, source));
            v1 = add(new Linear(spec(ldm + "attn1.to_v", dif + "attn1.to_v"), dim, dim, false, source));
            o1 = add(new Linear(spec(ldm + "attn1.to_out.0", dif + "attn1.to_out.0"), dim, dim, true, source));
            ffIn = add(new Linear(spec(ldm + "ff.net.0.proj", dif + "ff.net.0.proj"), dim, dim * 8L, true, source));
            ffOut = add(new Linear(spec(ldm + "ff.net.2", dif + "ff.net.2"), dim * 4L, dim, true, source));
            q2 = add(new Linear(spec(ldm + "attn2.to_q", dif + "attn2.to_q"), dim, dim, false, source));
            k2 = add(new Linear(spec(ldm + "attn2.to_k", dif + "attn2.to_k"), ctx, dim, false, source, true));
            v2 = add(new Linear(spec(ldm + "attn2.to_v", dif + "attn2.to_v"), ctx, dim, false, source, true));
            o2 = add(new Linear(spec(ldm + "attn2.to_out.0", dif + "attn2.to_out.0"), dim, dim, true, source));
            norm1 = add(new LayerNorm(spec(ldm + "norm1", dif + "norm1"), dim, 1e-5f, source));
            norm2 = add(new LayerNorm(spec(ldm + "norm2", dif + "norm2"), dim, 1e-5f, source));
            norm3 = add(new LayerNorm(spec(ldm + "norm3", dif + "norm3"), dim, 1e-5f, source));
        }

        NDArray forward(NDArray x, NDArray context) {
            NDArray h = norm1.apply(x);
            x = x.add(o1.apply(Ops.attention(q1.apply(h), k1.apply(h), v1.apply(h), heads, scale, null, false)));
            h = norm2.apply(x);
            NDArray ck = context;
            NDArray cv = context;
            for (ContextHook hook : contextHooks) {
                ck = hook.apply(k2, ck);
                cv = hook.apply(v2, cv);
            }
            x = x.add(o2.apply(Ops.attention(q2.apply(h), k2.apply(ck), v2.apply(cv), heads, scale, null, false)));
            h = ffIn.apply(norm3.apply(x));
            long half = h.getShape().get(2) / 2;
            ai.djl.ndarray.NDList parts = h.split(new long[] {half}, 2);
            NDArray a = parts.get(0);
            NDArray gate = parts.get(1);
            return x.add(ffOut.apply(a.mul(Ops.gelu(gate))));
        }
    }
}
