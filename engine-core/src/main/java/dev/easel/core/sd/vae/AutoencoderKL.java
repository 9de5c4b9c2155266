package dev.easel.core.sd.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.Component;
import dev.easel.core.sd.model.VaeConfig;
import dev.easel.core.sd.nn.Conv2d;
import dev.easel.core.sd.nn.GroupNorm;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.Ops;
import dev.easel.core.sd.nn.WeightSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * ldm's {@code AutoencoderKL} ({@code ldm/modules/diffusionmodules/model.py} Encoder/Decoder): GroupNorm eps 1e-6,
 * SiLU, right/bottom-padded stride-2 downsampling, nearest upsampling, single-head mid attention over 1×1 convs,
 * {@code num_res_blocks + 1} resnets per decoder level. Keys {@code first_stage_model.*}.
 */
public final class AutoencoderKL {
    static final String PREFIX = "first_stage_model.";
    private final VaeConfig config;
    private final NetworkState state;
    /** Only during construction: the networks must not keep the checkpoint reachable. */
    private WeightSource source;
    private final List<Layer> layers = new ArrayList<>();
    private final Conv2d encConvIn;
    private final List<List<Stage>> encLevels = new ArrayList<>();
    private final List<Stage> encMid = new ArrayList<>();
    private final GroupNorm encNormOut;
    private final Conv2d encConvOut;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;
    private final Conv2d decConvIn;
    private final List<Stage> decMid = new ArrayList<>();
    private final List<List<Stage>> decLevels = new ArrayList<>();
    private final GroupNorm decNormOut;
    private final Conv2d decConvOut;

    /** One step of a level. */
    private interface Stage {
        NDArray forward(NDArray x);
    }

    /** The encoder's Gaussian posterior: mean and log-variance (clamped to [-30, 20]), {@code [B, z, h, w]} each. */
    public record Posterior(NDArray mean, NDArray logvar) {
        /** {@code mean + exp(logvar / 2) · noise}. */
        public NDArray sample(NDArray noise) {
            return mean.add(logvar.mul(0.5f).exp().mul(noise));
        }
    }

    public AutoencoderKL(VaeConfig c, WeightSource source, NetworkState state) {
        this.config = c;
        this.state = state;
        this.source = source;
        int levels = c.chMult().size();
        int ch = c.ch();
        int z = c.zChannels();
        // encoder
        encConvIn = add(new Conv2d(spec("encoder.conv_in", "encoder.conv_in"), c.inChannels(), ch, 3, 1, 1, source));
        int res = c.resolution();
        int blockIn = ch;
        for (int i = 0; i < levels; i++) {
            List<Stage> stages = new ArrayList<>();
            int blockOut = ch * c.chMult().get(i);
            for (int j = 0; j < c.numResBlocks(); j++) {
                stages.add(new Resnet("encoder.down." + i + ".block." + j + ".",
                        "encoder.down_blocks." + i + ".resnets." + j + ".", blockIn, blockOut));
                blockIn = blockOut;
                if (c.attnResolutions().contains(res)) {
                    stages.add(new Attention("encoder.down." + i + ".attn." + j + ".",
                            "encoder.down_blocks." + i + ".attentions." + j + ".", blockIn));
                }
            }
            if (i != levels - 1) {
                Conv2d down = add(new Conv2d(spec("encoder.down." + i + ".downsample.conv",
                        "encoder.down_blocks." + i + ".downsamplers.0.conv"), blockIn, blockIn, 3, 2, 0, source));
                stages.add(x -> down.apply(x.pad(new Shape(0, 1, 0, 1), 0)));
                res /= 2;
            }
            encLevels.add(stages);
        }
        encMid.add(new Resnet("encoder.mid.block_1.", "encoder.mid_block.resnets.0.", blockIn, blockIn));
        encMid.add(new Attention("encoder.mid.attn_1.", "encoder.mid_block.attentions.0.", blockIn));
        encMid.add(new Resnet("encoder.mid.block_2.", "encoder.mid_block.resnets.1.", blockIn, blockIn));
        encNormOut = add(new GroupNorm(spec("encoder.norm_out", "encoder.conv_norm_out"), 32, blockIn, 1e-6f, source));
        encConvOut = add(new Conv2d(spec("encoder.conv_out", "encoder.conv_out"), blockIn, c.doubleZ() ? 2L * z : z,
                3, 1, 1, source));
        int moments = c.doubleZ() ? 2 * c.embedDim() : c.embedDim();
        quantConv = add(new Conv2d(spec("quant_conv", "quant_conv"), c.doubleZ() ? 2L * z : z, moments, 1, 1, 0,
                source));
        postQuantConv = add(new Conv2d(spec("post_quant_conv", "post_quant_conv"), c.embedDim(), z, 1, 1, 0, source));
        // decoder
        blockIn = ch * c.chMult().get(levels - 1);
        res = c.resolution() >> (levels - 1);
        decConvIn = add(new Conv2d(spec("decoder.conv_in", "decoder.conv_in"), z, blockIn, 3, 1, 1, source));
        decMid.add(new Resnet("decoder.mid.block_1.", "decoder.mid_block.resnets.0.", blockIn, blockIn));
        decMid.add(new Attention("decoder.mid.attn_1.", "decoder.mid_block.attentions.0.", blockIn));
        decMid.add(new Resnet("decoder.mid.block_2.", "decoder.mid_block.resnets.1.", blockIn, blockIn));
        List<List<Stage>> reversed = new ArrayList<>();
        for (int i = levels - 1; i >= 0; i--) {
            int up = levels - 1 - i;
            List<Stage> stages = new ArrayList<>();
            int blockOut = ch * c.chMult().get(i);
            for (int j = 0; j <= c.numResBlocks(); j++) {
                stages.add(new Resnet("decoder.up." + i + ".block." + j + ".",
                        "decoder.up_blocks." + up + ".resnets." + j + ".", blockIn, blockOut));
                blockIn = blockOut;
                if (c.attnResolutions().contains(res)) {
                    stages.add(new Attention("decoder.up." + i + ".attn." + j + ".",
                            "decoder.up_blocks." + up + ".attentions." + j + ".", blockIn));
                }
            }
            if (i != 0) {
                Conv2d upConv = add(new Conv2d(spec("decoder.up." + i + ".upsample.conv",
                        "decoder.up_blocks." + up + ".upsamplers.0.conv"), blockIn, blockIn, 3, 1, 1, source));
                stages.add(x -> upConv.apply(Ops.upsampleNearest2x(x)));
                res *= 2;
            }
            reversed.add(stages);
        }
        decLevels.addAll(reversed);
        decNormOut = add(new GroupNorm(spec("decoder.norm_out", "decoder.conv_norm_out"), 32, blockIn, 1e-6f, source));
        decConvOut = add(new Conv2d(spec("decoder.conv_out", "decoder.conv_out"), blockIn, c.outCh(), 3, 1, 1,
                source));
        this.source = null;
    }

    private Layer.Spec spec(String ldm, String diffusers) {
        return new Layer.Spec(Component.VAE, PREFIX + ldm, diffusers, state);
    }

    private <T extends Layer> T add(T layer) {
        layers.add(layer);
        return layer;
    }

    public VaeConfig config() {
        return config;
    }

    /** Weight-bearing modules in construction order. */
    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** {@code quant_conv(encoder(image))} split into mean and clamped log-variance; image in [-1, 1]. */
    public Posterior encode(NDArray image) {
        NDArray h = encConvIn.apply(image);
        for (List<Stage> level : encLevels) {
            for (Stage s : level) {
                h = step(s, h, image);
            }
        }
        for (Stage s : encMid) {
            h = step(s, h, image);
        }
        NDArray last = h;
        NDArray moments = Ops.scoped(() -> quantConv.apply(encConvOut.apply(Ops.silu(encNormOut.apply(last)))));
        Ops.release(last, image);
        if (!config.doubleZ()) {
            return new Posterior(moments, moments.zerosLike().sub(30f));
        }
        NDList parts = moments.split(2, 1);
        return new Posterior(parts.get(0), parts.get(1).clip(-30f, 20f));
    }

    /** {@code decoder(post_quant_conv(z))} for an unscaled latent z. */
    public NDArray decode(NDArray z) {
        NDArray h = Ops.scoped(() -> decConvIn.apply(postQuantConv.apply(z)));
        for (Stage s : decMid) {
            h = step(s, h, z);
        }
        for (List<Stage> level : decLevels) {
            for (Stage s : level) {
                h = step(s, h, z);
            }
        }
        NDArray last = h;
        NDArray out = Ops.scoped(() -> decConvOut.apply(Ops.silu(decNormOut.apply(last))));
        Ops.release(last, z);
        return out;
    }

    /** One stage with its intermediates freed, and its input freed unless it is the caller's. */
    private static NDArray step(Stage s, NDArray h, NDArray callerInput) {
        NDArray out = Ops.scoped(() -> s.forward(h));
        Ops.release(h, callerInput);
        return out;
    }

    private final class Resnet implements Stage {
        private final GroupNorm norm1;
        private final Conv2d conv1;
        private final GroupNorm norm2;
        private final Conv2d conv2;
        private final Conv2d shortcut;

        Resnet(String ldm, String dif, int in, int out) {
            norm1 = add(new GroupNorm(spec(ldm + "norm1", dif + "norm1"), 32, in, 1e-6f, source));
            conv1 = add(new Conv2d(spec(ldm + "conv1", dif + "conv1"), in, out, 3, 1, 1, source));
            norm2 = add(new GroupNorm(spec(ldm + "norm2", dif + "norm2"), 32, out, 1e-6f, source));
            conv2 = add(new Conv2d(spec(ldm + "conv2", dif + "conv2"), out, out, 3, 1, 1, source));
            shortcut = in == out ? null : add(new Conv2d(spec(ldm + "nin_shortcut", dif + "conv_shortcut"), in, out,
                    1, 1, 0, source));
        }

        @Override
        public NDArray forward(NDArray x) {
            NDArray h = conv1.apply(Ops.silu(norm1.apply(x)));
            h = conv2.apply(Ops.silu(norm2.apply(h)));
            return (shortcut == null ? x : shortcut.apply(x)).add(h);
        }
    }

    private final class Attention implements Stage {
        private final GroupNorm norm;
        private final Conv2d q;
        private final Conv2d k;
        private final Conv2d v;
        private final Conv2d proj;
        private final float scale;

        Attention(String ldm, String dif, int ch) {
            norm = add(new GroupNorm(spec(ldm + "norm", dif + "group_norm"), 32, ch, 1e-6f, source));
            q = add(new Conv2d(spec(ldm + "q", dif + "to_q"), ch, ch, 1, 1, 0, source));
            k = add(new Conv2d(spec(ldm + "k", dif + "to_k"), ch, ch, 1, 1, 0, source));
            v = add(new Conv2d(spec(ldm + "v", dif + "to_v"), ch, ch, 1, 1, 0, source));
            proj = add(new Conv2d(spec(ldm + "proj_out", dif + "to_out.0"), ch, ch, 1, 1, 0, source));
            scale = (float) Math.pow(ch, -0.5);
        }

        @Override
        public NDArray forward(NDArray x) {
            long[] s = x.getShape().getShape();
            NDArray h = norm.apply(x);
            NDArray qs = q.apply(h).reshape(s[0], s[1], s[2] * s[3]).transpose(0, 2, 1);
            NDArray ks = k.apply(h).reshape(s[0], s[1], s[2] * s[3]).transpose(0, 2, 1);
            NDArray vs = v.apply(h).reshape(s[0], s[1], s[2] * s[3]).transpose(0, 2, 1);
            NDArray a = Ops.attention(qs, ks, vs, 1, scale, null, false);
            return x.add(proj.apply(a.transpose(0, 2, 1).reshape(s)));
        }
    }
}
