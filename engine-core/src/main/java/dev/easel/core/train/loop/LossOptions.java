package dev.easel.core.train.loop;

import dev.easel.core.train.config.JobConfig;

/**
 * The shared diffusion loss's options (kohya's names).
 *
 * @param vPrediction          train on the v target instead of ε
 * @param elementLoss          the per-element loss (l2, l1, huber, smooth_l1)
 * @param minSnrGamma          min-SNR-γ weighting (0: off)
 * @param scaleVPredLikeNoise  scale the v loss by SNR/(SNR+1)
 * @param debiased             weight by 1/sqrt(SNR) (ε) or 1/(SNR+1) (v)
 * @param priorLossWeight      weight of regularisation images
 * @param noiseOffset          offset-noise strength
 * @param noiseOffsetRandom    scale the offset by U(0,1) per step
 * @param adaptiveNoiseScale   add this times the |mean| of each latent channel to the offset
 * @param multiresIterations   multires (pyramid) noise levels (0: off)
 * @param multiresDiscount     weight decay per multires level
 * @param ipNoiseGamma         input-perturbation strength
 * @param ipNoiseRandom        scale the perturbation by U(0,1) per step
 * @param minTimestep          lowest timestep sampled
 * @param maxTimestep          timesteps are sampled below this
 */
public record LossOptions(boolean vPrediction, ElementLoss elementLoss, double minSnrGamma, boolean scaleVPredLikeNoise,
                          boolean debiased, double priorLossWeight, double noiseOffset, boolean noiseOffsetRandom,
                          double adaptiveNoiseScale, int multiresIterations, double multiresDiscount,
                          double ipNoiseGamma, boolean ipNoiseRandom, int minTimestep, int maxTimestep) {
    /** The options a job config sets. */
    public static LossOptions of(JobConfig job) {
        var e = job.engine();
        return new LossOptions(e.getBoolean("v_parameterization"), new ElementLoss(e.getString("loss_type"),
                e.getDouble("huber_c"), e.getString("huber_schedule"), e.getDouble("huber_scale")),
                e.getDouble("min_snr_gamma"), e.getBoolean("scale_v_pred_loss_like_noise_pred"),
                e.getBoolean("debiased_estimation_loss"), e.getDouble("prior_loss_weight"),
                e.getDouble("noise_offset"), e.getBoolean("noise_offset_random_strength"),
                e.getDouble("adaptive_noise_scale"), e.getInt("multires_noise_iterations"),
                e.getDouble("multires_noise_discount"),
                e.getDouble("ip_noise_gamma"), e.getBoolean("ip_noise_gamma_random_strength"), e.getInt("min_timestep"),
                e.getInt("max_timestep"));
    }

    /** The same options training on the v target. */
    public LossOptions withVPrediction() {
        return new LossOptions(true, elementLoss, minSnrGamma, scaleVPredLikeNoise, debiased, priorLossWeight, noiseOffset,
                noiseOffsetRandom, adaptiveNoiseScale, multiresIterations, multiresDiscount, ipNoiseGamma,
                ipNoiseRandom, minTimestep, maxTimestep);
    }
}
