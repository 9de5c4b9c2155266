package dev.easel.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Versions fixed at build time: Easel's own and the runtime it was built and tested against. */
public final class BuildInfo {
    private static final Properties PROPS = load();

    private BuildInfo() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** Easel's version. */
    public static String easelVersion() {
        return PROPS.getProperty("easel.version", "dev");
    }

    /** The DJL version on the host class path. */
    public static String djlVersion() {
        return PROPS.getProperty("djl.version", "0.36.0");
    }

    /** The libtorch version DJL loads. */
    public static String pytorchVersion() {
        return PROPS.getProperty("pytorch.version", "2.7.1");
    }
}
