package dev.easel.core.train.loop;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Draws the loss curve (per-step loss and its moving average) as a PNG with Java2D. */
public final class LossCurve {
    private static final int W = 800;
    private static final int H = 400;
    private static final int PAD = 50;

    private LossCurve() {
    }

    /** Writes the PNG atomically; does nothing without points. */
    public static void write(Path png, List<double[]> points) throws IOException {
        if (points.isEmpty()) {
            return;
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            double minX = points.get(0)[0];
            double maxX = points.get(points.size() - 1)[0];
            double minY = Double.MAX_VALUE;
            double maxY = -Double.MAX_VALUE;
            for (double[] p : points) {
                if (Double.isFinite(p[1])) {
                    minY = Math.min(minY, p[1]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
            if (minY > maxY) {
                minY = 0;
                maxY = 1;
            }
            if (maxY - minY < 1e-12) {
                maxY = minY + 1e-6;
            }
            if (maxX <= minX) {
                maxX = minX + 1;
            }
            g.setColor(Color.GRAY);
            g.drawRect(PAD, PAD / 2, W - PAD - PAD / 2, H - PAD - PAD / 2);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawString(String.format(Locale.ROOT, "%.4g", maxY), 2, PAD / 2 + 10);
            g.drawString(String.format(Locale.ROOT, "%.4g", minY), 2, H - PAD);
            g.drawString("step " + (long) minX, PAD, H - PAD / 2 + 12);
            String last = "step " + (long) maxX;
            g.drawString(last, W - PAD / 2 - g.getFontMetrics().stringWidth(last), H - PAD / 2 + 12);
            g.drawString("loss", W / 2 - 10, H - 8);
            draw(g, points, minX, maxX, minY, maxY, false, new Color(150, 180, 230), 1f);
            draw(g, points, minX, maxX, minY, maxY, true, new Color(20, 60, 160), 2f);
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void draw(Graphics2D g, List<double[]> points, double minX, double maxX, double minY, double maxY,
                             boolean smooth, Color color, float width) {
        Path2D.Double path = new Path2D.Double();
        double avg = points.get(0)[1];
        double alpha = 2.0 / (Math.min(100, Math.max(2, points.size() / 10)) + 1);
        boolean started = false;
        for (double[] p : points) {
            if (!Double.isFinite(p[1])) {
                continue;
            }
            avg = smooth ? avg + alpha * (p[1] - avg) : p[1];
            double x = PAD + (p[0] - minX) / (maxX - minX) * (W - PAD - PAD / 2.0);
            double y = PAD / 2.0 + (1 - (avg - minY) / (maxY - minY)) * (H - PAD - PAD / 2.0);
            if (!started) {
                path.moveTo(x, y);
                started = true;
            } else {
                path.lineTo(x, y);
            }
        }
        g.setColor(color);
        g.setStroke(new BasicStroke(width));
        g.draw(path);
    }
}
