package dev.easel.core.synth;

import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Decides from pixel statistics alone what a picture of the synthetic dataset's kind shows: the background colour
 * (the most common palette colour of the border ring, where the generator never draws a shape), the shape's colour
 * (the other palette colour with the largest connected region), and the shape (the outline whose box-fitted
 * template overlaps that region best, by intersection over union). Used to measure how well samples
 * follow their prompts, and by the tests of every personalisation method to see a learned concept appear.
 */
public final class ShapeCheck {
    /** The least intersection over union for a shape to count as recognised. */
    public static final double MIN_IOU = 0.6;
    /** The least share of the picture the shape's region must cover. */
    public static final double MIN_COVER = 0.04;

    private ShapeCheck() {
    }

    /**
     * What the check saw.
     *
     * @param background the border's colour
     * @param color      the shape's colour, null if nothing but background
     * @param shape      the best-matching outline, null if none reaches {@link #MIN_IOU} or the region is too small
     * @param iou        the best match's intersection over union
     * @param cover      the share of the picture the shape's region covers
     * @param scores     IoU of every outline
     */
    public record Observation(NamedColor background, NamedColor color, ShapeKind shape, double iou, double cover,
                              Map<ShapeKind, Double> scores) {
        /** Whether this matches what a prompt asked for (colour, background and, if the prompt names one, shape). */
        public Verdict against(ShapePrompt expected) {
            return new Verdict(this, color == expected.color(), background == expected.background(),
                    expected.shape() != null && shape == expected.shape());
        }

        @Override
        public String toString() {
            return (color == null ? "nothing" : color.word() + " " + (shape == null ? "blob" : shape.word()))
                    + " on " + background.word() + String.format(java.util.Locale.ROOT, " (IoU %.2f, cover %.2f)",
                    iou, cover);
        }
    }

    /** An observation held against a prompt. */
    public record Verdict(Observation seen, boolean colorRight, boolean backgroundRight, boolean shapeRight) {
        /** Colour and shape right: what "follows the prompt" means in Easel Tiny's adherence rate. */
        public boolean adheres() {
            return colorRight && shapeRight;
        }
    }

    /** Looks at a picture. */
    public static Observation observe(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        NamedColor[] classes = new NamedColor[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                classes[y * w + x] = NamedColor.nearest(image.getRGB(x, y));
            }
        }
        int ring = Math.max(1, (int) Math.floor(Math.min(w, h) * ShapeScene.MARGIN / 2));
        Map<NamedColor, Integer> border = new EnumMap<>(NamedColor.class);
        Map<NamedColor, Integer> inside = new EnumMap<>(NamedColor.class);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean edge = x < ring || y < ring || x >= w - ring || y >= h - ring;
                (edge ? border : inside).merge(classes[y * w + x], 1, Integer::sum);
            }
        }
        NamedColor background = mode(border, null);
        // the shape's colour is the one with the largest connected region: antialiasing fringes, texture dots and
        // a blurry sample's stray pixels are many small regions
        NamedColor color = null;
        boolean[] region = null;
        int regionSize = 0;
        for (NamedColor c : inside.keySet()) {
            if (c == background) {
                continue;
            }
            boolean[] r = largestRegion(classes, w, h, c);
            int n = 0;
            for (boolean b : r) {
                n += b ? 1 : 0;
            }
            if (n > regionSize) {
                regionSize = n;
                region = r;
                color = c;
            }
        }
        Map<ShapeKind, Double> scores = new EnumMap<>(ShapeKind.class);
        if (color == null) {
            return new Observation(background, null, null, 0, 0, scores);
        }
        int area = 0;
        int minX = w;
        int minY = h;
        int maxX = -1;
        int maxY = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (region[y * w + x]) {
                    area++;
                    minX = Math.min(minX, x);
                    maxX = Math.max(maxX, x);
                    minY = Math.min(minY, y);
                    maxY = Math.max(maxY, y);
                }
            }
        }
        double cover = area / (double) (w * h);
        ShapeKind best = null;
        double bestIou = 0;
        for (ShapeKind k : ShapeKind.values()) {
            double iou = iou(region, w, k, minX, minY, maxX + 1, maxY + 1, area);
            scores.put(k, iou);
            if (iou > bestIou) {
                bestIou = iou;
                best = k;
            }
        }
        if (bestIou < MIN_IOU || cover < MIN_COVER) {
            best = null;
        }
        return new Observation(background, color, best, bestIou, cover, scores);
    }

    /** Looks at a picture and holds what it saw against a prompt of the dataset's grammar. */
    public static Verdict check(BufferedImage image, ShapePrompt expected) {
        return observe(image).against(expected);
    }

    /** IoU of the region with the outline stretched onto the region's bounding box. */
    private static double iou(boolean[] region, int w, ShapeKind kind, int x0, int y0, int x1, int y1, int area) {
        Shape unit = kind.outline(0, 0, 1);
        Rectangle2D b = unit.getBounds2D();
        AffineTransform t = new AffineTransform();
        t.translate(x0, y0);
        t.scale((x1 - x0) / b.getWidth(), (y1 - y0) / b.getHeight());
        t.translate(-b.getX(), -b.getY());
        Shape template = t.createTransformedShape(unit);
        int inter = 0;
        int templateArea = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                if (template.contains(x + 0.5, y + 0.5)) {
                    templateArea++;
                    if (region[y * w + x]) {
                        inter++;
                    }
                }
            }
        }
        int union = area + templateArea - inter;
        return union == 0 ? 0 : inter / (double) union;
    }

    private static boolean[] largestRegion(NamedColor[] classes, int w, int h, NamedColor color) {
        int[] label = new int[w * h];
        int best = 0;
        int bestSize = 0;
        int next = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] != color || label[i] != 0) {
                continue;
            }
            next++;
            int size = 0;
            label[i] = next;
            queue.add(i);
            while (!queue.isEmpty()) {
                int p = queue.poll();
                size++;
                int x = p % w;
                int y = p / w;
                int[] around = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
                for (int q : around) {
                    if (q >= 0 && label[q] == 0 && classes[q] == color) {
                        label[q] = next;
                        queue.add(q);
                    }
                }
            }
            if (size > bestSize) {
                bestSize = size;
                best = next;
            }
        }
        boolean[] region = new boolean[w * h];
        for (int i = 0; i < region.length; i++) {
            region[i] = best != 0 && label[i] == best;
        }
        return region;
    }

    private static NamedColor mode(Map<NamedColor, Integer> counts, NamedColor except) {
        NamedColor best = null;
        int n = 0;
        for (var e : counts.entrySet()) {
            if (e.getKey() != except && e.getValue() > n) {
                n = e.getValue();
                best = e.getKey();
            }
        }
        return best;
    }

    /** Counts verdicts: the adherence rates of a set of samples. */
    public static final class Tally {
        private int total;
        private int color;
        private int background;
        private int shape;
        private int both;

        public void add(Verdict v) {
            total++;
            color += v.colorRight() ? 1 : 0;
            background += v.backgroundRight() ? 1 : 0;
            shape += v.shapeRight() ? 1 : 0;
            both += v.adheres() ? 1 : 0;
        }

        public int total() {
            return total;
        }

        public double colorRate() {
            return rate(color);
        }

        public double backgroundRate() {
            return rate(background);
        }

        public double shapeRate() {
            return rate(shape);
        }

        /** Colour and shape right. */
        public double adherenceRate() {
            return rate(both);
        }

        private double rate(int n) {
            return total == 0 ? 0 : n / (double) total;
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%d samples: colour %.0f%%, background %.0f%%, shape %.0f%%,"
                    + " colour and shape %.0f%%", total, 100 * colorRate(), 100 * backgroundRate(),
                    100 * shapeRate(), 100 * adherenceRate());
        }
    }

    /** Every shape's outline, for callers that list what the check can tell apart. */
    public static List<ShapeKind> shapes() {
        return List.of(ShapeKind.values());
    }
}
