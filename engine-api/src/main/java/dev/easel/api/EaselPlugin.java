package dev.easel.api;

/**
 * The root of every Easel service provider interface.
 *
 * <p>An implementation is found two ways with one declaration: as an OSGi service inside the Easel host (the host
 * reads the bundle's {@code META-INF/services} files and registers each listed class on the bundle's behalf, or the
 * bundle registers it itself with Declarative Services or an activator), and through
 * {@link java.util.ServiceLoader} when Easel is embedded or unit-tested without OSGi. Implementations therefore need
 * a public no-argument constructor and should hold no state between jobs; per-job state lives in the objects they
 * create for a job.
 */
public interface EaselPlugin {
    /** The id, version and description of this service. Must return the same value on every call. */
    PluginDescriptor descriptor();

    /**
     * The parameters users may set, validated by the host before any work starts.
     * The default is no parameters.
     */
    default ParameterSchema parameters() {
        return ParameterSchema.EMPTY;
    }
}
