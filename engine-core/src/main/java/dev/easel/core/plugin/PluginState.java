package dev.easel.core.plugin;

/** Where a plugin service stands. */
public enum PluginState {
    /** Selectable by new jobs. */
    ACTIVE,
    /** Replaced by a newer version: running jobs keep it, new jobs do not get it; retired when its last job ends. */
    DRAINING,
    /** Could not be loaded; the record's reason says why. */
    REFUSED;

    /** The lower-case name used in listings and JSON. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
