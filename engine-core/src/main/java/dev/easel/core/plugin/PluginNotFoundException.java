package dev.easel.core.plugin;

import java.util.NoSuchElementException;

/** No service matches a selector; the message lists what is installed of that kind. */
public class PluginNotFoundException extends NoSuchElementException {
    private static final long serialVersionUID = 1L;

    public PluginNotFoundException(String message) {
        super(message);
    }
}
