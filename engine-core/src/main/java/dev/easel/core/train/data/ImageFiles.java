package dev.easel.core.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Training images: PNG, JPEG, BMP and WebP (the TwelveMonkeys ImageIO plugin, pure Java). Alpha is dropped the
 * way PIL's {@code convert("RGB")} drops it (colour channels kept as stored), so latents match kohya's.
 */
public final class ImageFiles {
    /** Extensions treated as images, lower case with the dot. */
    public static final Set<String> EXTENSIONS = Set.of(".png", ".jpg", ".jpeg", ".webp", ".bmp");

    static {
        ImageIO.scanForPlugins();
    }

    private ImageFiles() {
    }

    /** Whether the file name has an image extension. */
    public static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(name.substring(dot));
    }

    /** Width and height from the header, without decoding pixels. */
    public static int[] size(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file); ImageInputStream iis = ImageIO.createImageInputStream(in)) {
            Iterator<ImageReader> readers = iis == null ? null : ImageIO.getImageReaders(iis);
            if (readers == null || !readers.hasNext()) {
                throw new IOException(file + ": not an image this engine can read (PNG, JPEG, WebP, BMP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(iis, true, true);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        }
    }

    /** Decodes an image to 8-bit RGB. */
    public static BufferedImage readRgb(Path file) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot decode image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new IOException(file + ": not an image this engine can read (PNG, JPEG, WebP, BMP)");
        }
        if (img.getType() == BufferedImage.TYPE_INT_RGB) {
            return img;
        }
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        int[] row = new int[img.getWidth()];
        for (int y = 0; y < img.getHeight(); y++) {
            img.getRGB(0, y, img.getWidth(), 1, row, 0, img.getWidth());
            for (int x = 0; x < row.length; x++) {
                row[x] &= 0xFFFFFF;
            }
            rgb.setRGB(0, y, img.getWidth(), 1, row, 0, img.getWidth());
        }
        return rgb;
    }
}
