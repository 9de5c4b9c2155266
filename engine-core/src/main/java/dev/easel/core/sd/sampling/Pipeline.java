package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.SdModel;
import java.util.Locale;

/**
 * txt2img and img2img over a model and its hooks: prompt and negative prompt conditioned as A1111 does, initial noise
 * from the seed (or given), the chosen sampler with classifier-free guidance, VAE decode with the model's scale
 * factor. Deterministic for a seed on CPU.
 */
public final class Pipeline {
    private final SdModel model;
    private final SdNetworkHooks hooks;

    public Pipeline(SdModel model, SdNetworkHooks hooks) {
        this.model = model;
        this.hooks = hooks;
    }

    /** The latent and decoded image of one generation. */
    public record Output(NDArray latent, NDArray image) {
    }

    /** Pixels per latent cell times the UNet's own downsampling: width and height must be multiples of it. */
    public int sizeMultiple() {
        return model.config().vae().downsampleFactor() * (1 << (model.config().unet().channelMult().size() - 1));
    }

    /** The latent shape for an image size. */
    public Shape latentShape(int width, int height) {
        int m = sizeMultiple();
        if (width % m != 0 || height % m != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "width and height must be multiples of %d for this model, not %dx%d", m, width, height));
        }
        int f = model.config().vae().downsampleFactor();
        return new Shape(1, model.config().unet().inChannels(), height / f, width / f);
    }

    /**
     * Generates one image. {@code noise} (unit variance, {@link #latentShape}) replaces the seed's initial noise when
     * given; {@code initImage} ({@code [1, 3, H, W]} in [-1, 1]) makes it img2img at the request's strength.
     */
    public Output generate(NDManager m, GenerationRequest r, NDArray noise, NDArray initImage, StepListener listener) {
        Shape shape = latentShape(r.width(), r.height());
        NoiseSource rng = new NoiseSource(r.seed());
        NDArray x = noise != null ? noise : rng.next(m, shape);
        if (!x.getShape().equals(shape)) {
            throw new IllegalArgumentException("noise has shape " + x.getShape() + ", " + r.width() + "x" + r.height()
                    + " needs " + shape);
        }
        NoiseSource ancestral = new NoiseSource(r.seed() + 1);
        hooks.setWorkManager(m);
        int skip = hooks.clipSkip();
        if (r.clipSkip() > 0) {
            hooks.setClipSkip(r.clipSkip());
        }
        try {
            int chunks = Math.max(hooks.chunkCount(r.prompt()), hooks.chunkCount(r.negative()));
            NDArray cond = hooks.condition(r.prompt(), chunks);
            NDArray uncond = hooks.condition(r.negative(), chunks);
            Denoiser denoiser = new GuidedDenoiser(model.unet(), cond, uncond, r.cfg(), hooks.guidanceHooks());
            float scale = (float) model.config().vae().scaleFactor();
            NDArray latent;
            if (initImage == null) {
                latent = r.sampler() == SamplerKind.DDIM
                        ? new DdimSampler(model.schedule(), r.steps()).sample(denoiser, x, listener)
                        : new KDiffusionSampler(model.schedule(), r.sampler(), r.steps()).sample(denoiser, x,
                        ancestral, listener);
            } else {
                var posterior = model.vae().encode(initImage);
                NDArray clean = posterior.sample(rng.next(m, posterior.mean().getShape())).mul(scale);
                latent = r.sampler() == SamplerKind.DDIM
                        ? new DdimSampler(model.schedule(), r.steps()).img2img(denoiser, clean, x, r.strength(),
                        listener)
                        : new KDiffusionSampler(model.schedule(), r.sampler(), r.steps()).img2img(denoiser, clean, x,
                        r.strength(), ancestral, listener);
            }
            NDArray image = model.vae().decode(latent.mul((float) (1.0 / model.config().vae().scaleFactor())));
            return new Output(latent, image);
        } finally {
            hooks.setClipSkip(skip);
        }
    }
}
