package dev.easel.core.train.loop;

import java.util.List;
import java.util.Map;

/**
 * The counters of a checkpoint ({@code state.json} in a state folder). With the tensors beside it they are all a
 * resumed run needs: every random draw derives from {@code seed} and these counters.
 *
 * @param format     {@code easel-train-state/1}
 * @param step       optimiser steps done
 * @param epoch      0-based epoch of the next batch
 * @param position   index of the next batch within its epoch
 * @param seed       the job's seed
 * @param totalSteps the job's step budget
 * @param methodId   the method and version that wrote it
 * @param groups     names and tensor counts of the parameter groups, checked on resume
 * @param config     the job's keys as given
 */
public record TrainingState(String format, long step, int epoch, int position, long seed, long totalSteps,
                            String methodId, List<Map<String, Object>> groups, Map<String, Object> config) {
    public static final String FORMAT = "easel-train-state/1";
}
