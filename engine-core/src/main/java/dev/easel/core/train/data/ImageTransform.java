package dev.easel.core.train.data;

import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Resize, crop and flip of one training image into the VAE's input: float CHW in {@code [-1, 1]}. Downscaling
 * averages areas (as kohya's {@code cv2.INTER_AREA}), upscaling is bicubic.
 */
public final class ImageTransform {
    private ImageTransform() {
    }

    /** The bucket-sized pixels of an image, cropped at ({@code left}, {@code top}), mirrored if {@code flip}. */
    public static float[] pixels(BufferedImage image, Bucket bucket, int left, int top, boolean flip) {
        BufferedImage resized = resize(image, bucket.resizedWidth(), bucket.resizedHeight());
        int w = bucket.width();
        int h = bucket.height();
        if (left < 0 || top < 0 || left + w > resized.getWidth() || top + h > resized.getHeight()) {
            throw new IllegalArgumentException("crop " + left + "," + top + " " + w + "x" + h + " is outside "
                    + resized.getWidth() + "x" + resized.getHeight());
        }
        int[] rgb = resized.getRGB(left, top, w, h, null, 0, w);
        float[] out = new float[3 * w * h];
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = rgb[y * w + (flip ? w - 1 - x : x)];
                int i = y * w + x;
                out[i] = ((p >> 16) & 0xFF) / 127.5f - 1f;
                out[plane + i] = ((p >> 8) & 0xFF) / 127.5f - 1f;
                out[2 * plane + i] = (p & 0xFF) / 127.5f - 1f;
            }
        }
        return out;
    }

    /** The image at a new size. */
    public static BufferedImage resize(BufferedImage image, int width, int height) {
        if (image.getWidth() == width && image.getHeight() == height) {
            return image;
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            if (width <= image.getWidth() && height <= image.getHeight()) {
                Image scaled = image.getScaledInstance(width, height, Image.SCALE_AREA_AVERAGING);
                g.drawImage(scaled, 0, 0, null);
            } else {
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
                g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
                g.drawImage(image, 0, 0, width, height, null);
            }
        } finally {
            g.dispose();
        }
        return out;
    }
}
