/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libvirt plumbing for the VM backend: the daemons, transient domains built
 * from a spec, their bridge ports, the guest agent, readiness, bounded
 * parallel boots, the KVM/TCG probe and host-side memory.
 *
 * Everything goes through libvirt's C API on qemu:///system (never virsh).
 * Domains are transient (virDomainCreateXML): destroying one leaves nothing
 * defined.
 *
 * Errors: every int function returns 0 (or a count, where said) on success or
 * a negative errno, and writes a one-line message naming the domain or daemon
 * into err[errlen] (err may be NULL), followed by libvirt's own text when
 * libvirt failed, e.g. "starting domain cbtJ-sf1: internal error: ...".
 */
#ifndef CADEIA_VIRT_H
#define CADEIA_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#define VIRT_URI		"qemu:///system"
#define VIRT_SOCK		"/run/libvirt/libvirt-sock"
#define VIRT_STATE_DIR		"/run/cadeia-bench"
/* Lists the daemons this project started ("virtlogd <pid>" lines). */
#define VIRT_DAEMONS_FILE	VIRT_STATE_DIR "/libvirt-daemons"
#define VIRT_ACCEL_CACHE	"/var/cache/cadeia-bench/accel.json"
#define VIRT_READY_FILE		"/run/cadeia-ready"

#define VIRT_DEF_MEMORY_MIB	192
#define VIRT_DEF_QUEUES		2
/* TCG's translation cache. 32 MiB filled in about 10 s in an SF guest whose
 * tables change at every visit of an interleaved sweep, and every full flush
 * stalled that guest for tens of ms (40 ms RTT spikes draining over four
 * probes, at long chains mostly: more guests, more flushes on the path). */
#define VIRT_DEF_TB_CACHE_MIB	256
/* Concurrent TCG boots slow each other down to ~20 s and distort RTTs. */
#define VIRT_DEF_MAX_BOOTING	2

/* ---- daemons and connection ---------------------------------------------- */

/*
 * Makes sure libvirtd answers on VIRT_SOCK: if it does not, starts virtlogd
 * and libvirtd (daemonized) and records them in VIRT_DAEMONS_FILE; then waits
 * until VIRT_URI can be opened. Silences libvirt's default error printing.
 * *started (may be NULL) tells whether this call started anything.
 */
int virt_daemons_ensure(int timeout_ms, bool *started, char *err, size_t errlen);

/* True when libvirtd answers on VIRT_SOCK (a teardown connects only then). */
bool virt_daemon_answers(void);
/* Opens VIRT_URI. Does not start daemons (see virt_daemons_ensure). */
int virt_connect(virConnectPtr *conn, char *err, size_t errlen);
void virt_disconnect(virConnectPtr conn);

/* ---- domains -------------------------------------------------------------- */

struct virt_domain_spec {
	const char *name;
	unsigned int memory_mib;   /* 0 = VIRT_DEF_MEMORY_MIB */
	unsigned int vcpus;        /* 0 = 1 */
	const char *accel;         /* "tcg" (NULL) or "kvm" */
	const char *kernel;
	const char *initrd;
	/* "console=ttyS0" and "panic=-1" are added when missing. */
	const char *cmdline;
	/* The NIC; bridge NULL = no NIC at all (the KVM probe). */
	const char *bridge;
	const char *tap;           /* host-side tap name (<target dev>) */
	uint8_t mac[6];
	unsigned int mtu;          /* 0 = leave libvirt's default */
	unsigned int queues;       /* 0 = VIRT_DEF_QUEUES */
	/* Serial console log, written by virtlogd (root). NULL = none. */
	const char *console_log;
	unsigned int tb_cache_mib; /* TCG only; 0 = VIRT_DEF_TB_CACHE_MIB */
	/* Leave the bridge port as libvirt makes it (learning, flooding on). */
	bool keep_port_flags;
	/* The port is on a bridge that joins just two guests, a wire: learning
	 * off (frames carry foreign MACs both ways) but flooding on and no FDB
	 * entry, so every frame reaches the other guest. */
	bool wire_port;
	/* A second NIC (eth1 in the guest), same model, MTU and queues, its
	 * port always a wire port (above); bridge2 NULL = none. */
	const char *bridge2;
	const char *tap2;
	uint8_t mac2[6];
};

/* The domain XML for spec; malloc'd into *xml. */
int virt_domain_xml(const struct virt_domain_spec *spec, char **xml,
		    char *err, size_t errlen);
/* Kernel command line of the guest image contract; role/node/fn/ip may be
 * NULL and mtu 0 to leave them out. */
int virt_cmdline(char *buf, size_t len, const char *role, const char *node,
		 const char *fn, const char *ip, unsigned int mtu);

/*
 * Creates and starts a transient domain; then, unless keep_port_flags, turns
 * learning and all flooding off on its tap and adds a static FDB entry for
 * its MAC there (libvirt makes a new tap at every start), or makes it a wire
 * port (wire_port, and always the second NIC's). *dom (may be NULL)
 * receives a reference to free with virDomainFree.
 */
int virt_domain_start(virConnectPtr conn, const struct virt_domain_spec *spec,
		      virDomainPtr *dom, char *err, size_t errlen);
/* (Re)applies the port settings above to tap. */
int virt_port_isolate(const char *tap, const uint8_t mac[6], char *err, size_t errlen);
/* The same for a wire port (see wire_port). */
int virt_port_wire(const char *tap, char *err, size_t errlen);
/* Destroys a domain (and undefines it if it was defined). -ENOENT if there is
 * no such domain. */
int virt_domain_destroy(virConnectPtr conn, const char *name, char *err, size_t errlen);
/* How often TCG flushed the domain's whole translation cache since it
 * started (each flush stalls the guest while its code is translated
 * again); -1 when unknown (KVM, or no monitor). */
long virt_tb_flushes(virDomainPtr dom);
/* Pauses (suspends every vCPU) or resumes a running domain. */
int virt_domain_pause(virDomainPtr dom, bool paused, char *err, size_t errlen);
/* Names of the domains (running or defined) whose name starts with prefix,
 * sorted. *names is a malloc'd array of malloc'd strings (free with
 * virt_names_free). Returns the count. */
int virt_domain_list(virConnectPtr conn, const char *prefix, char ***names,
		     char *err, size_t errlen);
void virt_names_free(char **names, int n);
/* ---- guest agent ---------------------------------------------------------- */

/* guest-ping; timeout_ms is rounded up to whole seconds (libvirt's unit). */
int virt_agent_ping(virDomainPtr dom, int timeout_ms, char *err, size_t errlen);

struct virt_exec_result {
	int exitcode;      /* -1 if killed by a signal */
	int signal;        /* 0 if it exited */
	char *out;         /* decoded stdout, NUL-terminated; free() */
	size_t out_len;
	char *errout;      /* decoded stderr, NUL-terminated; free() */
	size_t err_len;
	bool truncated;    /* the agent cut the output short */
};
void virt_exec_result_free(struct virt_exec_result *r);

/* Runs argv[0] (full path) with argv in the guest, capturing its output,
 * and waits at most timeout_ms for it to exit (-ETIMEDOUT otherwise; the
 * process is left running). A non-zero exit code is not an error here. */
int virt_agent_exec(virDomainPtr dom, const char *const argv[], int timeout_ms,
		    struct virt_exec_result *res, char *err, size_t errlen);
/* Writes (creates or truncates) a guest file. */
int virt_agent_write_file(virDomainPtr dom, const char *path, const void *data,
			  size_t len, char *err, size_t errlen);
/* Reads a guest file whole (at most max bytes; -EFBIG beyond). *data is
 * malloc'd and NUL-terminated. -ENOENT if the file does not exist. */
int virt_agent_read_file(virDomainPtr dom, const char *path, size_t max,
			 char **data, size_t *len, char *err, size_t errlen);

/* ---- readiness and boots -------------------------------------------------- */

/* One look: 1 = ready, 0 = not yet, <0 = failed for good (the guest wrote
 * "failed", printed "cadeia: FAILED" or stopped); the message then ends with
 * the console log's tail. */
int virt_ready_check(virDomainPtr dom, const char *console_log, char *err, size_t errlen);
/*
 * Starts specs[0..n) with at most max_booting (0 = VIRT_DEF_MAX_BOOTING) of
 * them booting at a time, each waited for up to timeout_ms from its own
 * start. doms[i] receives each domain, boot_s[i] (boot_s may be NULL) the
 * seconds from its start to ready. On failure, returns the first error
 * and frees every doms[i] (setting it to NULL); the domains that were started
 * keep running, so tear down by prefix.
 */
int virt_boot_many(virConnectPtr conn, const struct virt_domain_spec *specs, int n,
		   int max_booting, int timeout_ms, virDomainPtr *doms, double *boot_s,
		   char *err, size_t errlen);

/* The last nlines lines of a console log into buf ("" if unreadable). */
void virt_console_tail(const char *path, int nlines, char *buf, size_t len);

/* ---- accelerator ---------------------------------------------------------- */

struct virt_probe_opts {
	const char *name;        /* domain name for the probe boot */
	const char *kernel;
	const char *initrd;
	const char *console_log; /* NULL = VIRT_STATE_DIR/<name>-console.log */
	const char *cache;       /* NULL = VIRT_ACCEL_CACHE */
	int timeout_ms;          /* 0 = 20 s */
	bool force;              /* ignore the cached answer */
};
/*
 * "kvm" or "tcg" into accel[len]: boots the image once under KVM with
 * cadeia.role=probe and takes KVM only if the console shows "cadeia: probe
 * ok" in time; otherwise destroys the probe and answers "tcg". The answer is
 * cached per host kernel release and QEMU version; *cached tells whether it
 * came from there. *key (may be NULL) receives the cache key.
 */
int virt_probe_accel(virConnectPtr conn, const struct virt_probe_opts *o, char *accel,
		     size_t len, bool *cached, char *key, size_t keylen,
		     char *err, size_t errlen);

/* ---- memory --------------------------------------------------------------- */

struct virt_mem {
	unsigned long long rss_kib;  /* VmRSS of the domain's QEMU process */
	unsigned long long hwm_kib;  /* VmHWM: its peak RSS so far */
	int pid;
};
/* Host-side memory of a running domain, from /proc/<qemu pid>/status. */
int virt_domain_mem(const char *name, struct virt_mem *m, char *err, size_t errlen);

#endif /* CADEIA_VIRT_H */
