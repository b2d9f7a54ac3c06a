/* version.h — dlrun's version, printed by --version and recorded in run reports. */
#ifndef RT_VERSION_H
#define RT_VERSION_H
#define DLRUN_VERSION "0.1.0"
#endif
