package dev.easel.core.model;

/** The Stable Diffusion generation a checkpoint belongs to, as its keys and shapes reveal it. */
public enum SdFamily {
    SD1("sd1"), SD2("sd2"), SDXL("sdxl"), UNKNOWN("unknown");

    private final String id;

    SdFamily(String id) {
        this.id = id;
    }

    /** How {@code easel inspect} prints it. */
    public String id() {
        return id;
    }
}
