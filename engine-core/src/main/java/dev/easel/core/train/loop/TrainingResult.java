package dev.easel.core.train.loop;

import java.nio.file.Path;
import java.util.List;

/**
 * How a job ended.
 *
 * @param steps     optimiser steps done
 * @param lastLoss  loss of the last step (NaN if none)
 * @param outputs   files of the final result
 * @param lastState the newest state folder, or {@code null}
 * @param cancelled whether it stopped early on request
 */
public record TrainingResult(long steps, double lastLoss, List<Path> outputs, Path lastState, boolean cancelled) {
}
