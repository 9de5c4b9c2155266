package dev.easel.core.train.data;

/**
 * Where one image goes: the bucket (training size), the size it is resized to before cropping, and the crop.
 *
 * @param width         bucket width in pixels
 * @param height        bucket height in pixels
 * @param resizedWidth  the image's width after resizing (covers the bucket)
 * @param resizedHeight the image's height after resizing
 */
public record Bucket(int width, int height, int resizedWidth, int resizedHeight) {
    /** Centre-crop offset along x. */
    public int cropLeft() {
        return (resizedWidth - width) / 2;
    }

    /** Centre-crop offset along y. */
    public int cropTop() {
        return (resizedHeight - height) / 2;
    }
}
