package dev.easel.api;

/**
 * A parameter value that does not fit its {@link ParameterSpec}: unknown name, wrong type, out of range, or a
 * required parameter left out. The message names the parameter and what was expected, so the CLI can print it as
 * is and exit with status 1 before any work starts.
 */
public class InvalidParameterException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String parameter;

    public InvalidParameterException(String parameter, String message) {
        super(message);
        this.parameter = parameter;
    }

    /** The name of the offending parameter. */
    public String parameter() {
        return parameter;
    }
}
