# -*- coding: utf-8 -*-
# Copyright: gxtax-ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each cause of an Oracle connection failure means: status, stage, Chinese and
English sentence, 排查方向 and 导致问题. Data only; oracle_conn.classify() picks the cause.
Runs on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

GRANT_SCRIPT = "files/oracle/create_monitor_user.sql"

_ENABLE_THICK = ("在控制节点安装 Oracle Instant Client（19c 客户端可连接 11.2 及以上版本），"
                 "并将 client_lib_dir（gxtax_oracle_client_lib_dir）设为其目录以启用 thick 模式")
_UNREACHABLE = "应用无法连接数据库，相关业务中断"
_NOT_INSPECTED = "该数据库本次未被巡检，表空间、会话、锁、备份等异常可能未被发现"

# Why a connection failed: status, where it failed (stage), Chinese and English reason,
# 排查方向 and 导致问题. <user> and <timeout> are filled in per database.
CAUSES = {
    "listener_refused": dict(
        status="critical", stage="不可达", zh="连接被拒绝，目标端口上没有监听程序",
        en="unreachable: connection refused, no listener on the port, ORA-12541",
        direction="在数据库主机上执行 lsnrctl status 确认监听已启动、端口与连接串一致，并检查主机防火墙",
        consequence=_UNREACHABLE),
    "unreachable": dict(
        status="critical", stage="不可达", zh="网络不通或建立TCP连接超时",
        en="unreachable: no route to the host or the TCP connection timed out",
        direction="检查控制节点到数据库主机的网络、路由和防火墙（ping、nc -zv 主机 端口），确认主机已开机",
        consequence=_UNREACHABLE),
    "dns": dict(
        status="error", stage="无法连接", zh="连接串中的主机名无法解析",
        en="the host name in the DSN cannot be resolved",
        direction="核对 gxtax_oracle_dsn 中的主机名，检查控制节点的 DNS 或 /etc/hosts",
        consequence=_NOT_INSPECTED),
    "tns_alias": dict(
        status="error", stage="无法连接", zh="连接串是TNS别名，但找不到其定义",
        en="TNS alias not found in tnsnames.ora",
        direction=("确认 config_dir（gxtax_oracle_config_dir）下的 tnsnames.ora 中定义了该别名，"
                   "或改用 主机:端口/服务名"),
        consequence=_NOT_INSPECTED),
    "service_unknown": dict(
        status="critical", stage="不可达", zh="监听在运行，但服务名未在监听上注册",
        en="service not registered with the listener, ORA-12514",
        direction=("在数据库主机执行 lsnrctl services 查看已注册的服务并核对连接串中的服务名；实例刚启动时"
                   "可执行 ALTER SYSTEM REGISTER，并检查 local_listener 参数和实例是否已启动"),
        consequence="使用该服务名的应用无法连接数据库，相关业务中断"),
    "instance_unavailable": dict(
        status="critical", stage="不可达", zh="数据库实例未打开、正在启动或关闭",
        en="instance not open, starting up or shutting down",
        direction=("登录数据库主机查看实例状态（ps -ef | grep pmon；sqlplus / as sysdba 查询 v$instance）"
                   "和告警日志"),
        consequence="数据库不可用，业务中断"),
    "no_handler": dict(
        status="critical", stage="不可达", zh="监听找不到可用的服务进程（进程数或会话数可能已满）",
        en="listener found no available handler (processes or sessions may be exhausted)",
        direction=("在数据库主机查询 v$resource_limit 中 processes/sessions 的使用情况，排查连接泄漏，"
                   "必要时调大参数"),
        consequence="新的应用连接被拒绝，业务中断"),
    "nne": dict(
        status="error", stage="无法连接", zh="数据库要求原生网络加密（NNE），thin 模式不支持",
        en="the database requires native network encryption, which thin mode does not support",
        direction=_ENABLE_THICK + "；或在数据库改用 TLS（TCPS）",
        consequence=_NOT_INSPECTED),
    "thin_unsupported": dict(
        status="error", stage="无法连接", zh="thin 模式不支持该数据库版本（如 11.2）",
        en="thin mode does not support this database version (e.g. 11.2), DPY-3010",
        direction=_ENABLE_THICK, consequence=_NOT_INSPECTED),
    "verifier": dict(
        status="error", stage="登录失败", zh="thin 模式不支持该账户的口令验证器类型（如 10G 验证器）",
        en="thin mode does not support the account's password verifier, DPY-3015",
        direction=_ENABLE_THICK + "；或由 DBA 重设 <user> 的口令以生成 11G/12C 验证器",
        consequence=_NOT_INSPECTED),
    "client_missing": dict(
        status="error", stage="无法连接", zh="找不到可用的 Oracle 客户端库，无法启用 thick 模式",
        en="no usable Oracle Client library for thick mode, DPI-1047",
        direction=("确认 client_lib_dir 指向含 libclntsh.so 的 Oracle Instant Client 目录，"
                   "且与控制节点的 Python 同为64位"),
        consequence=_NOT_INSPECTED),
    "credentials": dict(
        status="error", stage="登录失败", zh="用户名或口令错误",
        en="wrong user name or password, ORA-01017",
        direction=("核对 gxtax_oracle_user 和 vault 中的 gxtax_oracle_password；确认监控用户 <user> 已按 "
                   + GRANT_SCRIPT + " 创建。连续失败会触发账户锁定"),
        consequence=_NOT_INSPECTED),
    "locked": dict(
        status="error", stage="登录失败", zh="监控账户已被锁定",
        en="account locked, ORA-28000",
        direction=("由 DBA 执行 ALTER USER <user> ACCOUNT UNLOCK，并查看 dba_users.lock_date 和审计记录，"
                   "排查是否有口令错误的重复登录（profile 的 FAILED_LOGIN_ATTEMPTS）"),
        consequence=_NOT_INSPECTED),
    "expired": dict(
        status="error", stage="登录失败", zh="监控账户口令已过期",
        en="password expired, ORA-28001",
        direction="由 DBA 重设 <user> 的口令并更新 vault，为监控用户指定口令不过期的 profile",
        consequence=_NOT_INSPECTED),
    "no_session_privilege": dict(
        status="error", stage="登录失败", zh="监控用户缺少 CREATE SESSION 权限",
        en="missing privilege CREATE SESSION, ORA-01045",
        direction="以 SYSDBA 执行 " + GRANT_SCRIPT + "（GRANT CREATE SESSION TO <user>）",
        consequence=_NOT_INSPECTED),
    "sysdba_denied": dict(
        status="error", stage="登录失败", zh="以 SYSDBA 方式登录被拒绝",
        en="SYSDBA login refused, ORA-01031",
        direction=("确认 <user> 已授予 SYSDBA 且口令文件包含该用户（v$pwfile_users）；"
                   "巡检建议使用普通监控用户（mode: normal，按 " + GRANT_SCRIPT + " 授权）"),
        consequence=_NOT_INSPECTED),
    "no_credentials": dict(
        status="error", stage="登录失败", zh="未提供用户名或口令",
        en="no user name or password given",
        direction="设置 user 和 password（gxtax_oracle_user / gxtax_oracle_password，口令放在 vault 中）",
        consequence=_NOT_INSPECTED),
    "closed": dict(
        status="error", stage="无法连接", zh="数据库或网络在建立连接时关闭了连接",
        en="the database or network closed the connection, DPY-4011",
        direction=("检查数据库 sqlnet.ora 是否要求原生网络加密（SQLNET.ENCRYPTION_SERVER），如是则"
                   + _ENABLE_THICK + "；并检查中间防火墙和数据库告警日志"),
        consequence=_NOT_INSPECTED),
    "call_timeout": dict(
        status="error", stage="无法连接", zh="数据库在时限内未响应",
        en="the database did not answer in time, DPY-4024",
        direction="检查数据库主机负载、告警日志和监听状态",
        consequence=_NOT_INSPECTED),
    "watchdog": dict(
        status="error", stage="无法连接", zh="在 <timeout> 秒内未完成连接，监听接受了TCP连接但没有应答",
        en="no answer within the module timeout: the port accepted TCP but the listener never replied",
        direction=("在数据库主机检查监听和实例是否挂起（lsnrctl status、告警日志、主机负载），"
                   "检查连接串端口上是否确为 Oracle 监听，以及中间防火墙是否丢弃了会话中的数据包"),
        consequence="应用连接数据库时可能长时间挂起，业务响应缓慢或中断"),
    "describe_privilege": dict(
        status="error", stage="登录成功但无法读取基本信息", zh="监控用户缺少查询权限",
        en="missing privilege to read the instance views, ORA-00942/ORA-01031",
        direction=("以 SYSDBA 执行 " + GRANT_SCRIPT + " 为 <user> 授予巡检所需的查询权限"
                   "（CDB 使用其 CDB 版本）"),
        consequence=_NOT_INSPECTED),
    "describe_failed": dict(
        status="error", stage="登录成功但无法读取基本信息", zh="查询实例和数据库信息失败",
        en="reading the instance and database views failed",
        direction="根据错误号查看数据库告警日志，确认实例状态和监控用户权限（" + GRANT_SCRIPT + "）",
        consequence=_NOT_INSPECTED),
    "describe_timeout": dict(
        status="error", stage="登录成功但无法读取基本信息", zh="查询实例和数据库信息在时限内未完成",
        en="reading the instance and database views did not finish within the module timeout",
        direction="检查数据库是否挂起或存在严重的锁和资源等待（告警日志、主机负载），确认后可调大 timeout",
        consequence=_NOT_INSPECTED),
    "other": dict(
        status="error", stage="无法连接", zh="连接数据库时发生未归类的错误",
        en="unclassified error while connecting",
        direction="根据错误号查阅 Oracle 错误说明和 python-oracledb 故障排查文档，检查连接串和监控用户配置",
        consequence=_NOT_INSPECTED),
}

# Thin mode failed for a reason thick mode does not have: try thick once, if a client loads.
THICK_CAUSES = ("thin_unsupported", "verifier", "nne")

# ------------------------------------------------------------------ error codes
