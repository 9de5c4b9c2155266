package dev.easel.core.train.loop;

import java.util.Map;

/**
 * One finished optimiser step.
 *
 * @param step        steps done (from 1)
 * @param totalSteps  the job's budget
 * @param epoch       0-based epoch of the step's last batch
 * @param loss        mean loss of the step's micro-batches
 * @param averageLoss moving average over the last steps
 * @param learningRates the rate of each group
 * @param gradNorm    global gradient norm before clipping
 * @param timings     where the step's time went
 */
public record StepReport(long step, long totalSteps, int epoch, double loss, double averageLoss,
                         Map<String, Double> learningRates, double gradNorm, StepTimings timings) {
}
