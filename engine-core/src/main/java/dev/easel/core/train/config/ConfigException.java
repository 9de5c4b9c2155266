package dev.easel.core.train.config;

/**
 * A job configuration that cannot run: the message names the file (or {@code --param}) and the key, and is what
 * the CLI prints before exiting with status 1.
 */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String key;

    public ConfigException(String source, String key, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.key = key;
    }

    /** Where the bad value came from: a file path or {@code --param}. */
    public String source() {
        return source;
    }

    /** The offending key, or {@code null} for a problem with the file as a whole. */
    public String key() {
        return key;
    }
}
