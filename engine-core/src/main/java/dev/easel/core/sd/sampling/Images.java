package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Between images and the VAE's {@code [1, 3, H, W]} tensors in [-1, 1]. */
public final class Images {
    private Images() {
    }

    /** RGB 8-bit, as A1111 converts: clamp((x + 1) / 2, 0, 1) · 255, truncated. */
    public static BufferedImage toImage(NDArray decoded) {
        long[] s = decoded.getShape().getShape();
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = decoded.toFloatArray();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int r = channel(v[i]);
                int g = channel(v[plane + i]);
                int b = channel(v[2 * plane + i]);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int channel(float x) {
        float c = Math.min(1f, Math.max(0f, (x + 1f) / 2f));
        return (int) (255f * c);
    }

    /** An image resized to {@code w × h} (bicubic) as {@code [1, 3, h, w]} in [-1, 1]. */
    public static NDArray fromImage(NDManager m, BufferedImage image, int w, int h) {
        BufferedImage src = image;
        if (image.getWidth() != w || image.getHeight() != h || image.getType() != BufferedImage.TYPE_INT_RGB) {
            src = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = src.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.drawImage(image, 0, 0, w, h, null);
            g.dispose();
        }
        float[] v = new float[3 * w * h];
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = src.getRGB(x, y);
                int i = y * w + x;
                v[i] = ((rgb >> 16) & 0xff) / 127.5f - 1f;
                v[plane + i] = ((rgb >> 8) & 0xff) / 127.5f - 1f;
                v[2 * plane + i] = (rgb & 0xff) / 127.5f - 1f;
            }
        }
        return m.create(v, new Shape(1, 3, h, w));
    }
}
