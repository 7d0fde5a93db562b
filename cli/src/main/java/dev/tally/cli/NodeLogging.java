package dev.tally.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * The node's logging, as its command line sets it: the level, text or JSON lines (one object per event), on stdout
 * and/or a rotating file, rolled daily and at {@link #MAX_FILE_SIZE}, {@link #TOTAL_SIZE_CAP} kept in all.
 */
final class NodeLogging {
    /** Text lines start with the date and time with its UTC offset, so lines from several machines compare. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n";

    static final FileSize MAX_FILE_SIZE = FileSize.valueOf("50MB");
    static final FileSize TOTAL_SIZE_CAP = FileSize.valueOf("1GB");

    enum Format {
        TEXT,
        JSON
    }

    private NodeLogging() {}

    static Format format(String text) throws BadInputException {
        try {
            return Format.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--log-format must be text or json, got \"" + text + "\"");
        }
    }

    static Level level(String text) throws BadInputException {
        Level level = Level.toLevel(text, null);
        if (level == null) {
            throw new BadInputException(
                    "--log-level must be one of error, warn, info, debug, trace, got \"" + text + "\"");
        }
        return level;
    }

    /**
     * Replaces the root logger's appenders: stdout when {@code console}, and a rotating {@code file} when given, both
     * in {@code format}; events below {@code level} are dropped.
     */
    static void configure(Format format, Level level, boolean console, Optional<Path> file) {
        configure(format, level, console, file, MAX_FILE_SIZE);
    }

    static void configure(Format format, Level level, boolean console, Optional<Path> file, FileSize maxFileSize) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.setLevel(level);
        if (console) {
            ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
            out.setContext(ctx);
            out.setName("STDOUT");
            out.setEncoder(encoder(ctx, format));
            out.start();
            root.addAppender(out);
        }
        if (file.isPresent()) {
            root.addAppender(rollingFile(ctx, format, file.get(), maxFileSize));
        }
    }

    private static RollingFileAppender<ILoggingEvent> rollingFile(
            LoggerContext ctx, Format format, Path file, FileSize maxFileSize) {
        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(ctx);
        appender.setName("FILE");
        appender.setFile(file.toString());
        String name = file.getFileName().toString();
        String stem = name.endsWith(".log") ? name.substring(0, name.length() - 4) : name;
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(ctx);
        policy.setParent(appender);
        policy.setFileNamePattern(
                file.resolveSibling(stem + ".%d{yyyy-MM-dd}.%i.log.gz").toString());
        policy.setMaxFileSize(maxFileSize);
        policy.setMaxHistory(14);
        policy.setTotalSizeCap(TOTAL_SIZE_CAP);
        policy.start();
        appender.setRollingPolicy(policy);
        appender.setEncoder(encoder(ctx, format));
        appender.start();
        return appender;
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext ctx, Format format) {
        Encoder<ILoggingEvent> encoder = switch (format) {
            case TEXT -> {
                PatternLayoutEncoder text = new PatternLayoutEncoder();
                text.setPattern(TEXT_PATTERN);
                yield text;
            }
            case JSON -> {
                // The message as read, not its template and arguments; no per-line copy of the context.
                JsonEncoder json = new JsonEncoder();
                json.setWithFormattedMessage(true);
                json.setWithMessage(false);
                json.setWithArguments(false);
                json.setWithContext(false);
                yield json;
            }
        };
        encoder.setContext(ctx);
        encoder.start();
        return encoder;
    }
}
