package dev.easel.core.train.optim;

import java.util.ArrayList;
import java.util.List;

/**
 * A learning rate given as a number or as AUTOMATIC1111's schedule string {@code "0.005:100, 1e-3:1000, 1e-5"}:
 * 0.005 for steps 0..99, 1e-3 for steps 100..999, then 1e-5 to the end. A pair ending at {@code -1} lasts to the
 * end; when the last pair has an end step, training ends there, as in A1111.
 */
public final class StepwiseLearningRate {
    private final List<double[]> pieces;

    private StepwiseLearningRate(List<double[]> pieces) {
        this.pieces = List.copyOf(pieces);
    }

    /**
     * Parses a rate or schedule.
     *
     * @throws IllegalArgumentException with a message saying what a schedule looks like
     */
    public static StepwiseLearningRate parse(String text) {
        List<double[]> pieces = new ArrayList<>();
        String[] pairs = text.split(",");
        try {
            long lastEnd = -1;
            for (int i = 0; i < pairs.length; i++) {
                String pair = pairs[i].trim();
                if (pair.isEmpty()) {
                    continue;
                }
                String[] parts = pair.split(":");
                double rate = Double.parseDouble(parts[0].trim());
                if (!(rate >= 0) || Double.isInfinite(rate)) {
                    throw new NumberFormatException();
                }
                if (parts.length == 1 || Long.parseLong(parts[1].trim()) == -1) {
                    if (parts.length > 2) {
                        throw new NumberFormatException();
                    }
                    pieces.add(new double[] {rate, Double.POSITIVE_INFINITY});
                    if (i < pairs.length - 1 && !String.join("", List.of(pairs).subList(i + 1, pairs.length)).isBlank()) {
                        throw new IllegalArgumentException("has rates after one that lasts to the end: '" + text + "'");
                    }
                    break;
                }
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                long end = Long.parseLong(parts[1].trim());
                if (end <= lastEnd || end <= 0) {
                    throw new IllegalArgumentException("must have increasing end steps: '" + text + "'");
                }
                lastEnd = end;
                pieces.add(new double[] {rate, end});
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a number or a schedule like '0.005:100, 1e-3:1000, 1e-5',"
                    + " not '" + text + "'");
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        return new StepwiseLearningRate(pieces);
    }

    /** Whether this is a single constant rate. */
    public boolean constant() {
        return pieces.size() == 1 && Double.isInfinite(pieces.get(0)[1]);
    }

    /** The rate of step 0. */
    public double initial() {
        return pieces.get(0)[0];
    }

    /** The rate at a 0-based step; past the last end step the last rate. */
    public double rate(long step) {
        for (double[] p : pieces) {
            if (step < p[1]) {
                return p[0];
            }
        }
        return pieces.get(pieces.size() - 1)[0];
    }

    /** The step at which the schedule ends training, or {@link Long#MAX_VALUE} if it lasts to the end. */
    public long endStep() {
        double end = pieces.get(pieces.size() - 1)[1];
        return Double.isInfinite(end) ? Long.MAX_VALUE : (long) end;
    }
}
