package dev.easel.core.train.optim;

import java.util.Locale;

/**
 * The learning-rate multiplier of each optimiser step, as diffusers' {@code get_scheduler} (which kohya uses)
 * computes it: {@code factor(s)} for the 0-based step {@code s}, applied to every group's base rate. An A1111
 * schedule string multiplies by {@code rate(s) / rate(0)}.
 */
public final class LrSchedule {
    private final String name;
    private final long totalSteps;
    private final long warmupSteps;
    private final int numCycles;
    private final double power;
    private final StepwiseLearningRate stepwise;

    /**
     * @param name        constant, constant_with_warmup, cosine, cosine_with_restarts, linear or polynomial
     * @param totalSteps  the job's optimiser steps
     * @param warmup      warm-up steps; values below 1 are a fraction of {@code totalSteps} (kohya)
     * @param numCycles   cosine_with_restarts' cycles
     * @param power       polynomial's power
     * @param stepwise    the configured learning rate (a constant or an A1111 schedule)
     */
    public LrSchedule(String name, long totalSteps, double warmup, int numCycles, double power,
                      StepwiseLearningRate stepwise) {
        this.name = name.toLowerCase(Locale.ROOT);
        this.totalSteps = Math.max(1, totalSteps);
        this.warmupSteps = warmup > 0 && warmup < 1 ? (long) Math.floor(warmup * totalSteps) : (long) warmup;
        this.numCycles = numCycles;
        this.power = power;
        this.stepwise = stepwise;
        switch (this.name) {
            case "constant", "constant_with_warmup", "cosine", "cosine_with_restarts", "linear", "polynomial" -> { }
            default -> throw new IllegalArgumentException("unknown lr_scheduler '" + name + "'");
        }
    }

    /** Warm-up steps after resolving a fraction. */
    public long warmupSteps() {
        return warmupSteps;
    }

    /** The multiplier of the base rates at a 0-based step. */
    public double factor(long step) {
        double s = step;
        double w = warmupSteps;
        double t = totalSteps;
        double f;
        switch (name) {
            case "constant" -> f = 1;
            case "constant_with_warmup" -> f = step < warmupSteps ? s / Math.max(1, w) : 1;
            case "linear" -> f = step < warmupSteps ? s / Math.max(1, w) : Math.max(0, (t - s) / Math.max(1, t - w));
            case "cosine" -> {
                if (step < warmupSteps) {
                    f = s / Math.max(1, w);
                } else {
                    double progress = (s - w) / Math.max(1, t - w);
                    f = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
                }
            }
            case "cosine_with_restarts" -> {
                if (step < warmupSteps) {
                    f = s / Math.max(1, w);
                } else {
                    double progress = (s - w) / Math.max(1, t - w);
                    f = progress >= 1 ? 0 : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * ((numCycles * progress) % 1.0))));
                }
            }
            case "polynomial" -> {
                double lrInit = stepwise.initial();
                double lrEnd = 1e-7;
                if (step < warmupSteps) {
                    f = s / Math.max(1, w);
                } else if (s > t || lrInit <= lrEnd) {
                    f = lrInit == 0 ? 0 : lrEnd / lrInit;
                } else {
                    double remaining = 1 - (s - w) / (t - w);
                    f = ((lrInit - lrEnd) * Math.pow(remaining, power) + lrEnd) / lrInit;
                }
            }
            default -> throw new IllegalStateException(name);
        }
        if (!stepwise.constant()) {
            double first = stepwise.initial();
            f *= first == 0 ? 0 : stepwise.rate(step) / first;
        }
        return f;
    }
}
