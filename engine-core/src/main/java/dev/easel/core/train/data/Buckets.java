package dev.easel.core.train.data;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * kohya's aspect-ratio bucketing ({@code library/model_util.py make_bucket_resolutions} and
 * {@code library/train_util.py BucketManager.select_bucket}), reproduced so the same images land in the same
 * buckets at the same sizes.
 */
public final class Buckets {
    private final List<int[]> resolutions;
    private final boolean noUpscale;
    private final int maxArea;
    private final int steps;

    private Buckets(List<int[]> resolutions, boolean noUpscale, int maxArea, int steps) {
        this.resolutions = resolutions;
        this.noUpscale = noUpscale;
        this.maxArea = maxArea;
        this.steps = steps;
    }

    /** Aspect-ratio buckets for a resolution, as kohya's {@code enable_bucket}. */
    public static Buckets bucketed(int width, int height, int minSize, int maxSize, int steps, boolean noUpscale) {
        return new Buckets(resolutions(width, height, minSize, maxSize, steps), noUpscale, width * height, steps);
    }

    /** One bucket of exactly the resolution: every image is resized to cover it and centre-cropped. */
    public static Buckets single(int width, int height) {
        List<int[]> one = new ArrayList<>();
        one.add(new int[] {width, height});
        return new Buckets(one, false, width * height, 8);
    }

    /** kohya's {@code make_bucket_resolutions}: sorted (width, height) pairs. */
    public static List<int[]> resolutions(int maxWidth, int maxHeight, int minSize, int maxSize, int divisible) {
        int maxArea = maxWidth * maxHeight;
        Set<List<Integer>> resos = new LinkedHashSet<>();
        int width = (int) (Math.floor(Math.sqrt(maxArea) / divisible)) * divisible;
        resos.add(List.of(width, width));
        width = minSize;
        while (width <= maxSize) {
            int height = Math.min(maxSize, (maxArea / width) / divisible * divisible);
            if (height >= minSize) {
                resos.add(List.of(width, height));
                resos.add(List.of(height, width));
            }
            width += divisible;
        }
        List<int[]> out = new ArrayList<>();
        for (List<Integer> r : resos) {
            out.add(new int[] {r.get(0), r.get(1)});
        }
        out.sort(Comparator.<int[]>comparingInt(r -> r[0]).thenComparingInt(r -> r[1]));
        return out;
    }

    /** The candidate resolutions. */
    public List<int[]> resolutions() {
        return resolutions;
    }

    /** The bucket of an image of the given size. */
    public Bucket select(int imageWidth, int imageHeight) {
        double aspect = (double) imageWidth / imageHeight;
        if (noUpscale) {
            int rw = imageWidth;
            int rh = imageHeight;
            if ((long) imageWidth * imageHeight > maxArea) {
                double resizedWidth = Math.sqrt(maxArea * aspect);
                double resizedHeight = maxArea / resizedWidth;
                int bWidthRounded = roundToSteps(resizedWidth);
                int bHeightInWr = roundToSteps(bWidthRounded / aspect);
                double arWidthRounded = (double) bWidthRounded / bHeightInWr;
                int bHeightRounded = roundToSteps(resizedHeight);
                int bWidthInHr = roundToSteps(bHeightRounded * aspect);
                double arHeightRounded = (double) bWidthInHr / bHeightRounded;
                if (Math.abs(arWidthRounded - aspect) < Math.abs(arHeightRounded - aspect)) {
                    rw = bWidthRounded;
                    rh = (int) (bWidthRounded / aspect + 0.5);
                } else {
                    rw = (int) (bHeightRounded * aspect + 0.5);
                    rh = bHeightRounded;
                }
            }
            int bw = rw - rw % steps;
            int bh = rh - rh % steps;
            if (bw <= 0 || bh <= 0) {
                throw new IllegalArgumentException("image of " + imageWidth + "x" + imageHeight
                        + " is smaller than one bucket step (" + steps + ")");
            }
            return new Bucket(bw, bh, rw, rh);
        }
        int best = 0;
        double bestError = Double.MAX_VALUE;
        for (int i = 0; i < resolutions.size(); i++) {
            int[] r = resolutions.get(i);
            double error = Math.abs((double) r[0] / r[1] - aspect);
            if (error < bestError) {
                bestError = error;
                best = i;
            }
        }
        int[] reso = resolutions.get(best);
        double arReso = (double) reso[0] / reso[1];
        double scale = aspect > arReso ? (double) reso[1] / imageHeight : (double) reso[0] / imageWidth;
        int rw = (int) (imageWidth * scale + 0.5);
        int rh = (int) (imageHeight * scale + 0.5);
        return new Bucket(reso[0], reso[1], Math.max(rw, reso[0]), Math.max(rh, reso[1]));
    }

    private int roundToSteps(double x) {
        int v = (int) (x + 0.5);
        return v - v % steps;
    }
}
