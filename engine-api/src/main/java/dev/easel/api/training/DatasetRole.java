package dev.easel.api.training;

/** Which images a method trains on. */
public enum DatasetRole {
    /** The user's images of the concept (every image-based method). */
    INSTANCE,
    /** Class images for prior preservation (DreamBooth, Custom Diffusion); the batch marks them. */
    CLASS,
    /** Regularisation images as kohya's {@code reg_data_dir} uses them. */
    REGULARIZATION
}
