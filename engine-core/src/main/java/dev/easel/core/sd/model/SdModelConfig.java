package dev.easel.core.sd.model;

/** Everything needed to build a Stable Diffusion model's networks and schedule. */
public record SdModelConfig(String family, UNetConfig unet, VaeConfig vae, TextEncoderConfig text,
                            ScheduleConfig schedule) {
    /** Stable Diffusion 1.x. */
    public static SdModelConfig sd1() {
        return new SdModelConfig("sd1", UNetConfig.sd1(), VaeConfig.sd(), TextEncoderConfig.sd1(),
                ScheduleConfig.sd("eps"));
    }

    /** Stable Diffusion 2.x ({@code prediction} "v" for the 768-v models, "eps" for the 512 base). */
    public static SdModelConfig sd2(String prediction) {
        return new SdModelConfig("sd2", UNetConfig.sd2(), VaeConfig.sd(), TextEncoderConfig.sd2(),
                ScheduleConfig.sd(prediction));
    }

    public SdModelConfig withPrediction(String prediction) {
        return new SdModelConfig(family, unet, vae, text, new ScheduleConfig(schedule.linearStart(),
                schedule.linearEnd(), schedule.timesteps(), prediction));
    }
}
