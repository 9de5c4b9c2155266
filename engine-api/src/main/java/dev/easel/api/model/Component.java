package dev.easel.api.model;

/** The networks of a Stable Diffusion model. */
public enum Component {
    /** CLIP text encoder (SD1/SD2; the first of SDXL's two). */
    TEXT_ENCODER,
    /** SDXL's second text encoder (OpenCLIP bigG). */
    TEXT_ENCODER_2,
    /** The denoising UNet. */
    UNET,
    /** The autoencoder. */
    VAE
}
