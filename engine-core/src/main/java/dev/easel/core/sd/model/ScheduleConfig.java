package dev.easel.core.sd.model;

/** The DDPM training schedule: ldm {@code linear} betas (diffusers {@code scaled_linear}) and the prediction type. */
public record ScheduleConfig(double linearStart, double linearEnd, int timesteps, String prediction) {
    public ScheduleConfig {
        if (!prediction.equals("eps") && !prediction.equals("v")) {
            throw new IllegalArgumentException("parameterization must be eps or v, not '" + prediction + "'");
        }
    }

    public static ScheduleConfig sd(String prediction) {
        return new ScheduleConfig(0.00085, 0.012, 1000, prediction);
    }
}
