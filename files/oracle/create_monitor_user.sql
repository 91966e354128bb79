-- gxtax-ops: least-privilege monitoring user for gxtax.ops.oracle_health (INSP-02..09, 12, 18).
--
-- For a non-CDB (11.2, 12.1, 12.2, 19c) or for one PDB (a local user; run it inside the PDB:
-- ALTER SESSION SET CONTAINER = PDB1;). For a user that inspects a whole CDB from its root
-- use create_monitor_user_cdb.sql instead.
--
--   sqlplus / as sysdba @files/oracle/create_monitor_user.sql
--
-- &&user is asked for unless DEFINEd first (DEFINE user = GXTAX_MON); the password is asked
-- for with HIDE and never stored in this file, in a script or in SQL*Plus history.
-- The grants are exactly the objects the inspection's SQL reads (docs/oracle.md lists which
-- check reads which); tests/unit/test_oracle_sql_gate.py keeps the two in step.
-- Nothing here grants a role, SELECT ANY, or access to application tables (SEC-02).

SET VERIFY OFF
SET FEEDBACK ON
WHENEVER SQLERROR EXIT SQL.SQLCODE

ACCEPT password CHAR PROMPT 'Password for the monitoring user &&user: ' HIDE

CREATE USER &&user IDENTIFIED BY "&&password";
UNDEFINE password
GRANT CREATE SESSION TO &&user;

-- Instance and database (describe_database, INSP-02)
GRANT SELECT ON SYS.V_$INSTANCE TO &&user;
GRANT SELECT ON SYS.V_$DATABASE TO &&user;

-- Tablespaces (INSP-03): usage metrics, the file-based fallback, temp and undo
GRANT SELECT ON SYS.DBA_TABLESPACE_USAGE_METRICS TO &&user;
GRANT SELECT ON SYS.DBA_TABLESPACES TO &&user;
GRANT SELECT ON SYS.DBA_DATA_FILES TO &&user;
GRANT SELECT ON SYS.DBA_FREE_SPACE TO &&user;
GRANT SELECT ON SYS.DBA_TEMP_FREE_SPACE TO &&user;
GRANT SELECT ON SYS.DBA_TEMP_FILES TO &&user;
GRANT SELECT ON SYS.DBA_UNDO_EXTENTS TO &&user;

-- Sessions and processes (INSP-04/05)
GRANT SELECT ON SYS.V_$RESOURCE_LIMIT TO &&user;

-- Locks, blocked sessions and long-running SQL (INSP-06/07)
GRANT SELECT ON SYS.V_$LOCK TO &&user;
GRANT SELECT ON SYS.V_$SESSION TO &&user;
GRANT SELECT ON SYS.V_$SQL TO &&user;
GRANT SELECT ON SYS.V_$SQLAREA TO &&user;

-- Scheduled, extraction and processing jobs (INSP-08/18)
GRANT SELECT ON SYS.DBA_SCHEDULER_JOB_RUN_DETAILS TO &&user;
GRANT SELECT ON SYS.DBA_SCHEDULER_JOBS TO &&user;
GRANT SELECT ON SYS.DBA_SCHEDULER_RUNNING_JOBS TO &&user;
GRANT SELECT ON SYS.DBA_JOBS TO &&user;

-- ASM disk groups (INSP-09), RMAN backups and the recovery area (INSP-12)
GRANT SELECT ON SYS.V_$ASM_DISKGROUP_STAT TO &&user;
GRANT SELECT ON SYS.V_$RMAN_BACKUP_JOB_DETAILS TO &&user;
GRANT SELECT ON SYS.V_$RECOVERY_FILE_DEST TO &&user;

-- 12.1 and later only: on 11.2 these two objects do not exist and the grants fail with
-- ORA-00942, which is expected (11.2 has no PDBs; its alert log needs SYSDBA, see docs/oracle.md).
WHENEVER SQLERROR CONTINUE
GRANT SELECT ON SYS.V_$PDBS TO &&user;
GRANT SELECT ON SYS.V_$DIAG_ALERT_EXT TO &&user;

PROMPT Monitoring user &&user created. Connect with it in gxtax.ops.oracle_health (mode: normal).
UNDEFINE user
