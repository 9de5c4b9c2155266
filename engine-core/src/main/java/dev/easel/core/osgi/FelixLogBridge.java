package dev.easel.core.osgi;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends Felix's own log to SLF4J (stderr) instead of standard output, which belongs to command results. */
final class FelixLogBridge extends org.apache.felix.framework.Logger {
    private static final Logger LOG = LoggerFactory.getLogger("dev.easel.core.osgi.Felix");

    @Override
    protected void doLog(Bundle bundle, ServiceReference sr, int level, String msg, Throwable throwable) {
        String text = bundle == null ? msg : bundle.getSymbolicName() + ": " + msg;
        switch (level) {
            case LOG_ERROR -> LOG.debug(text, throwable);
            case LOG_WARNING -> LOG.debug(text, throwable);
            default -> LOG.trace(text, throwable);
        }
    }

    @Override
    protected void doLog(int level, String msg, Throwable throwable) {
        doLog(null, null, level, msg, throwable);
    }

    @Override
    protected void doLogOut(int level, String msg, Throwable throwable) {
        doLog(null, null, level, msg, throwable);
    }
}
