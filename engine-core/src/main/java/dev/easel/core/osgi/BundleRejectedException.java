package dev.easel.core.osgi;

import dev.easel.core.plugin.PluginKind;
import java.nio.file.Path;
import java.util.List;

/** A plugin file the host will not run, with the reason users see in {@code plugins list}. */
public class BundleRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Path path;
    private final transient List<PluginKind> kinds;
    private final String reason;

    public BundleRejectedException(Path path, String reason, List<PluginKind> kinds) {
        super(path + ": " + reason);
        this.path = path;
        this.reason = reason;
        this.kinds = List.copyOf(kinds);
    }

    /** The file. */
    public Path path() {
        return path;
    }

    /** The problem, without the file name. */
    public String reason() {
        return reason;
    }

    /** The SPI kinds the file declared, if they could be read. */
    public List<PluginKind> kinds() {
        return kinds;
    }
}
