; govshare-desktop: the Windows installer (NSIS 3, Modern UI 2, Unicode).
;
; It packs the PyInstaller one-folder build (installer/govshare.spec) and installs it for all users:
;   makensis /DVERSION=0.2.0 /DDIST=C:\src\dist\govshare-desktop ^
;            /DOUTFILE=C:\src\dist\govshare-desktop-0.2.0-setup.exe installer\windows\govshare.nsi
; installer/windows/build.ps1 does the whole build. On Linux (Debian package nsis) the same script
; compiles with "makensis -DVERSION=..." (tests/e2e/test_installer_windows.py).
;
; Defines (/Dname=value on the command line):
;   VERSION     required, e.g. 0.2.0 (govshare_desktop/__init__.py)
;   VI_VERSION  the four-number version of the version resource; default from VERSION (x.y.z.0)
;   DIST        the one-folder build; default ..\..\dist\govshare-desktop
;   OUTFILE     the setup program; default ..\..\dist\govshare-desktop-${VERSION}-setup.exe
;   ICON        installer/uninstaller icon; default ..\..\resources\icons\govshare.ico
;   PUBLISHER   Publisher in 'Apps & features'; default govshare-desktop
;   COMPANY     optional CompanyName of the version resource
;   COPYRIGHT   LegalCopyright of the version resource; default "Copyright (C) ${PUBLISHER}"
; Relative paths are relative to this file's folder: makensis changes into it (unless /NOCD).
; Pass absolute paths when in doubt.
;
; What it does:
;   - installs into $PROGRAMFILES64\govshare-desktop (admin, per machine): govshare-desktop.exe (the
;     window), govshare.exe (the command line; not added to PATH), _internal\, uninstall.exe;
;   - Start-menu folder (program, uninstaller) and a desktop shortcut for all users;
;   - the 'Apps & features' entry HKLM\${UNINST_KEY} (64-bit registry view);
;   - over an earlier installation: runs its uninstaller silently first and deletes any leftover
;     _internal\, so no module of the old version stays behind; a downgrade needs a confirmation.
; Silent use: setup.exe /S [/D=C:\other\folder] (/D last, unquoted); uninstall.exe /S.
; Exit code of setup.exe: 0 installed; 2 refused (not 64-bit Windows 10+, the program is running,
; a downgrade under /S, old files locked); 1 cancelled by the user. uninstall.exe hands over to a
; copy of itself in %TEMP% and returns 0 at once: check that the program folder is gone.
; The uninstaller removes exactly those program files, shortcuts and registry values. It never
; touches the per-user data: %LOCALAPPDATA%\govshare-desktop (govshare.db, govshare.db.keys,
; backups\, Logs\) holds residents' data and is deleted only deliberately, by the clerk's office.
;
; No third-party plugins: nsExec (tasklist) and the standard headers only.
; This file is UTF-8 with a byte-order mark: without it makensis on a Chinese Windows would read it
; as GBK.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma
SetCompressorDictSize 32

!ifndef VERSION
  !error "VERSION is not defined: makensis /DVERSION=x.y.z ... (build.ps1 reads it from govshare_desktop/__init__.py)"
!endif
!ifndef VI_VERSION
  ; x.y.z -> x.y.z.0; a PEP 440 suffix (0.3.0rc1, 0.3.0.dev2) is dropped: 0.3.0.0
  !searchparse /noerrors "${VERSION}.0.0" "" _VI_1 "." _VI_2 "." _VI_3 "."
  !define /math _VI_1N "${_VI_1}" + 0
  !define /math _VI_2N "${_VI_2}" + 0
  !define /math _VI_3N "${_VI_3}" + 0
  !define VI_VERSION "${_VI_1N}.${_VI_2N}.${_VI_3N}.0"
!endif
!ifndef DIST
  !define DIST "..\..\dist\govshare-desktop"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\govshare-desktop-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "..\..\resources\icons\govshare.ico"
!endif
!ifndef PUBLISHER
  !define PUBLISHER "govshare-desktop"
!endif
!ifndef COPYRIGHT
  !define COPYRIGHT "Copyright (C) ${PUBLISHER}"
!endif

!define APP_ID "govshare-desktop"  ; program folder, registry key
!define APP_NAME "乡镇政务数据共享桌面端"  ; shortcuts, window titles
!define EXE_GUI "govshare-desktop.exe"
!define EXE_CLI "govshare.exe"
!define UNINSTALLER "uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define SM_FOLDER "$SMPROGRAMS\${APP_NAME}"
!define SC_PROGRAM "${APP_NAME}.lnk"
!define SC_UNINSTALL "卸载${APP_NAME}.lnk"  ; fixed names: the uninstaller may run in another language

; The payload must be a PyInstaller one-folder build: the two programs and _internal\.
!if ! /FileExists "${DIST}\${EXE_GUI}"
  !error "${DIST}\${EXE_GUI} not found: build it first (pyinstaller installer\govshare.spec) or pass /DDIST=<dist\govshare-desktop>"
!endif
!if ! /FileExists "${DIST}\${EXE_CLI}"
  !error "${DIST}\${EXE_CLI} not found: not a Windows build of installer\govshare.spec?"
!endif
!if ! /FileExists "${DIST}\_internal\*"
  !error "${DIST}\_internal\ not found: not a PyInstaller 6 one-folder build?"
!endif

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "WordFunc.nsh"
!include "x64.nsh"
!include "WinVer.nsh"

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_ID}"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show
BrandingText "${APP_ID} ${VERSION}"

Var OldVersion  ; DisplayVersion of an installed copy, or ""

; ---------------------------------------------------------------------------------------------
; Pages
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING
!define MUI_FINISHPAGE_NOAUTOCLOSE  ; the log stays readable (e.g. "removing the old version")
!define MUI_UNFINISHPAGE_NOAUTOCLOSE

!define MUI_WELCOMEPAGE_TEXT "$(TXT_WELCOME)"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; No "run now" box: the installer runs elevated, possibly as the IT contact's administrator
; account, and the program would create its database in that account's profile.
!define MUI_FINISHPAGE_TEXT "$(TXT_FINISH)"
!insertmacro MUI_PAGE_FINISH

!define MUI_WELCOMEPAGE_TEXT "$(TXT_UNWELCOME)"
!insertmacro MUI_UNPAGE_WELCOME
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "$(TXT_UNFINISH)"
!insertmacro MUI_UNPAGE_FINISH

; The first language is the default one.
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

; ---------------------------------------------------------------------------------------------
; Texts. "%LOCALAPPDATA%" is shown literally: $LOCALAPPDATA of the elevated installer may be
; another (the administrator's) account.
LangString TXT_WELCOME ${LANG_SIMPCHINESE} "本向导将在这台电脑上为所有用户安装 ${APP_NAME} ${VERSION}。$\r$\n$\r$\n如已安装旧版本，将先移除旧的程序文件再安装新版本；数据库和备份不受影响。$\r$\n$\r$\n安装前请关闭正在运行的 ${APP_NAME}。"
LangString TXT_WELCOME ${LANG_ENGLISH} "This wizard installs ${APP_NAME} (${APP_ID}) ${VERSION} for all users of this computer.$\r$\n$\r$\nAn installed older version is removed first; databases and backups are not affected.$\r$\n$\r$\nPlease close ${APP_NAME} before continuing."
LangString TXT_FINISH ${LANG_SIMPCHINESE} "${APP_NAME} 已安装到：$\r$\n$INSTDIR$\r$\n$\r$\n请用日常办公的 Windows 账户，从开始菜单或桌面快捷方式启动。$\r$\n$\r$\n每位用户的数据（数据库、备份、日志）保存在该用户的 %LOCALAPPDATA%\${APP_ID} 中。$\r$\n$\r$\n命令行程序：$INSTDIR\${EXE_CLI}（未加入 PATH）。"
LangString TXT_FINISH ${LANG_ENGLISH} "${APP_NAME} has been installed to:$\r$\n$INSTDIR$\r$\n$\r$\nStart it from the Start menu or the desktop shortcut, under the everyday Windows account.$\r$\n$\r$\nEach user's data (database, backups, logs) is kept in that user's %LOCALAPPDATA%\${APP_ID}.$\r$\n$\r$\nCommand line: $INSTDIR\${EXE_CLI} (not on PATH)."
LangString TXT_UNWELCOME ${LANG_SIMPCHINESE} "将删除 ${APP_NAME} 的程序文件、开始菜单和桌面快捷方式。$\r$\n$\r$\n不会删除居民数据：每位用户的数据库（govshare.db 和密钥文件 govshare.db.keys）、备份和日志保存在该用户的 %LOCALAPPDATA%\${APP_ID} 中，卸载后仍然保留。如确需删除，须由乡镇（街道）办公室按规定另行处理。"
LangString TXT_UNWELCOME ${LANG_ENGLISH} "This removes the program files and shortcuts of ${APP_NAME}.$\r$\n$\r$\nResidents' data is NOT removed: each user's database (govshare.db with its key file govshare.db.keys), backups and logs stay in that user's %LOCALAPPDATA%\${APP_ID}. Deleting them is a deliberate decision of the township office."
LangString TXT_UNFINISH ${LANG_SIMPCHINESE} "${APP_NAME} 的程序文件已删除。$\r$\n$\r$\n数据库、密钥文件和备份仍保留在每位用户的 %LOCALAPPDATA%\${APP_ID} 中。重新安装后可继续使用。"
LangString TXT_UNFINISH ${LANG_ENGLISH} "The program files of ${APP_NAME} have been removed.$\r$\n$\r$\nDatabases, key files and backups remain in each user's %LOCALAPPDATA%\${APP_ID}; a new installation uses them again."
LangString MSG_DATA_KEPT ${LANG_SIMPCHINESE} "已保留用户数据：%LOCALAPPDATA%\${APP_ID}（数据库、密钥文件、备份、日志）"
LangString MSG_DATA_KEPT ${LANG_ENGLISH} "User data kept: %LOCALAPPDATA%\${APP_ID} (database, key file, backups, logs)"
LangString MSG_NEED_X64 ${LANG_SIMPCHINESE} "${APP_NAME} 需要 64 位 Windows 10 或更高版本。"
LangString MSG_NEED_X64 ${LANG_ENGLISH} "${APP_NAME} needs 64-bit Windows 10 or later."
LangString MSG_RUNNING ${LANG_SIMPCHINESE} "${APP_NAME}（$R9）正在运行。$\r$\n$\r$\n请先保存工作并关闭它（包括其他已登录用户打开的），然后点“重试”。"
LangString MSG_RUNNING ${LANG_ENGLISH} "${APP_NAME} ($R9) is running.$\r$\n$\r$\nPlease save your work and close it (also in other users' sessions), then click Retry."
LangString MSG_DOWNGRADE ${LANG_SIMPCHINESE} "已安装较新的版本 $OldVersion，本安装程序是 ${VERSION}。$\r$\n$\r$\n新版本可能已升级了数据库格式，旧版本可能无法打开。仍要安装旧版本吗？"
LangString MSG_DOWNGRADE ${LANG_ENGLISH} "A newer version ($OldVersion) is installed; this is ${VERSION}.$\r$\n$\r$\nThe newer version may have upgraded the database, which the older one may not open. Install the older version anyway?"
LangString MSG_REMOVING_OLD ${LANG_SIMPCHINESE} "正在移除旧版本 $OldVersion 的程序文件：$R0"
LangString MSG_REMOVING_OLD ${LANG_ENGLISH} "Removing the program files of version $OldVersion: $R0"
LangString MSG_OLD_UNINSTALL_FAILED ${LANG_SIMPCHINESE} "旧版本的卸载程序未正常结束（$R1），将直接覆盖。"
LangString MSG_OLD_UNINSTALL_FAILED ${LANG_ENGLISH} "The old uninstaller did not finish cleanly ($R1); overwriting."
LangString MSG_STALE_LOCKED ${LANG_SIMPCHINESE} "无法删除旧的程序文件：$INSTDIR\_internal$\r$\n$\r$\n请关闭 ${APP_NAME}（必要时重启电脑）后重新运行安装程序。"
LangString MSG_STALE_LOCKED ${LANG_ENGLISH} "Cannot delete the old program files in $INSTDIR\_internal.$\r$\n$\r$\nClose ${APP_NAME} (restart the computer if needed) and run the installer again."

; Version resource of the setup program.
VIProductVersion "${VI_VERSION}"
VIFileVersion "${VI_VERSION}"
!macro VERSION_KEYS LANG
  VIAddVersionKey /LANG=${LANG} "ProductName" "${APP_ID}"
  VIAddVersionKey /LANG=${LANG} "FileDescription" "${APP_NAME}"
  VIAddVersionKey /LANG=${LANG} "FileVersion" "${VERSION}"
  VIAddVersionKey /LANG=${LANG} "ProductVersion" "${VERSION}"
  VIAddVersionKey /LANG=${LANG} "LegalCopyright" "${COPYRIGHT}"  ; makensis warns without it
  !ifdef COMPANY
    VIAddVersionKey /LANG=${LANG} "CompanyName" "${COMPANY}"
  !endif
!macroend
!insertmacro VERSION_KEYS ${LANG_SIMPCHINESE}
!insertmacro VERSION_KEYS ${LANG_ENGLISH}

; ---------------------------------------------------------------------------------------------
; Functions shared by installer and uninstaller (the uninstaller's carry the "un." prefix).

; Push haystack, push needle; Call StrContains; Pop 1 or 0 (NSIS compares case-insensitively).
!macro FUNC_STR_CONTAINS UN
Function ${UN}StrContains
  Exch $R0  ; needle
  Exch
  Exch $R1  ; haystack
  Push $R2
  Push $R3
  Push $R4
  StrLen $R2 $R0
  StrCpy $R3 0
  loop:
    StrCpy $R4 $R1 $R2 $R3
    StrCmp $R4 "" no
    StrCmp $R4 $R0 yes
    IntOp $R3 $R3 + 1
    Goto loop
  yes:
    StrCpy $R0 1
    Goto done
  no:
    StrCpy $R0 0
  done:
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R1
  Exch $R0
FunctionEnd
!macroend
!insertmacro FUNC_STR_CONTAINS ""
!insertmacro FUNC_STR_CONTAINS "un."

; Sets $R9 to IMAGE if $R9 is still "" and tasklist lists a process of that name.
!macro _FIND_RUNNING_IMAGE UN IMAGE
  ${If} $R9 == ""
    nsExec::ExecToStack '"$SYSDIR\tasklist.exe" /NH /FI "IMAGENAME eq ${IMAGE}"'
    Pop $0  ; exit code, or "error"
    Pop $1  ; output
    ${If} $0 == 0
      Push $1
      Push "${IMAGE}"
      Call ${UN}StrContains
      Pop $0
      ${If} $0 == 1
        StrCpy $R9 "${IMAGE}"
      ${EndIf}
    ${EndIf}
  ${EndIf}
!macroend

; Is the program running (in any session)? A Qt window has no fixed class name for FindWindow;
; tasklist sees every process, for both programs. If tasklist is unavailable, an installed
; govshare-desktop.exe that cannot be opened for writing is in use as well.
; Sets $R9 to the running program's name, or "".
!macro FUNC_FIND_RUNNING UN
Function ${UN}FindRunning
  Push $0
  Push $1
  StrCpy $R9 ""
  !insertmacro _FIND_RUNNING_IMAGE "${UN}" "${EXE_GUI}"
  !insertmacro _FIND_RUNNING_IMAGE "${UN}" "${EXE_CLI}"
  ${If} $R9 == ""
  ${AndIf} ${FileExists} "$INSTDIR\${EXE_GUI}"
    ClearErrors
    FileOpen $0 "$INSTDIR\${EXE_GUI}" a
    ${If} ${Errors}
      StrCpy $R9 "${EXE_GUI}"
    ${Else}
      FileClose $0
    ${EndIf}
  ${EndIf}
  Pop $1
  Pop $0
FunctionEnd

; Returns only when the program is not running; otherwise asks to close it (Retry/Cancel).
; Silent (/S): gives up at once with exit code 2.
Function ${UN}CheckNotRunning
  retry:
  Call ${UN}FindRunning
  ${If} $R9 != ""
    MessageBox MB_ICONEXCLAMATION|MB_RETRYCANCEL "$(MSG_RUNNING)" /SD IDCANCEL IDRETRY retry
    SetErrorLevel 2
    Quit
  ${EndIf}
FunctionEnd
!macroend
!insertmacro FUNC_FIND_RUNNING ""
!insertmacro FUNC_FIND_RUNNING "un."

; ---------------------------------------------------------------------------------------------
; Installer

Function .onInit
  ${IfNot} ${RunningX64}
  ${OrIfNot} ${AtLeastWin10}
    MessageBox MB_ICONSTOP|MB_OK "$(MSG_NEED_X64)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  SetRegView 64
  SetShellVarContext all

  ; An installed copy: upgrade it where it is, unless /D= chose a folder.
  ReadRegStr $OldVersion HKLM "${UNINST_KEY}" "DisplayVersion"
  ReadRegStr $0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $0 != ""
  ${AndIf} $INSTDIR == "$PROGRAMFILES64\${APP_ID}"
    StrCpy $INSTDIR $0
  ${EndIf}

  ; A newer installed version: only on purpose (never silently).
  ${If} $OldVersion != ""
    ${VersionCompare} "$OldVersion" "${VERSION}" $0
    ${If} $0 == 1
      ${IfNot} ${Cmd} `MessageBox MB_ICONEXCLAMATION|MB_YESNO|MB_DEFBUTTON2 "$(MSG_DOWNGRADE)" /SD IDNO IDYES`
        SetErrorLevel 2
        Quit
      ${EndIf}
    ${EndIf}
  ${EndIf}

  Call CheckNotRunning
FunctionEnd

Section "Install" SecInstall
  SetRegView 64
  SetShellVarContext all
  Call CheckNotRunning  ; again: it may have been started while the pages were shown

  ; 1. The old version's own uninstaller, in place (_?= : synchronous, it does not copy itself
  ;    away); then its remains. It also removes the old shortcuts and registry values.
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R0 != ""
  ${AndIf} ${FileExists} "$R0\${UNINSTALLER}"
    DetailPrint "$(MSG_REMOVING_OLD)"
    ClearErrors
    ExecWait '"$R0\${UNINSTALLER}" /S _?=$R0' $R1
    ${If} ${Errors}
    ${OrIf} $R1 != 0
      DetailPrint "$(MSG_OLD_UNINSTALL_FAILED)"
    ${EndIf}
    Delete "$R0\${UNINSTALLER}"
    RMDir "$R0"  ; only if empty
  ${EndIf}

  ; 2. Whatever is left in the target folder (no registry entry, a failed uninstaller, the same
  ;    version again): PyInstaller modules of another build must not stay next to the new ones.
  RMDir /r "$INSTDIR\_internal"
  ${If} ${FileExists} "$INSTDIR\_internal\*.*"
    MessageBox MB_ICONSTOP|MB_OK "$(MSG_STALE_LOCKED)" /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}

  ; 3. The program.
  SetOutPath "$INSTDIR"
  File /r "${DIST}\*"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  ; 4. Shortcuts for all users (their working folder is the current output path).
  SetOutPath "$INSTDIR"
  CreateDirectory "${SM_FOLDER}"
  CreateShortCut "${SM_FOLDER}\${SC_PROGRAM}" "$INSTDIR\${EXE_GUI}" "" "$INSTDIR\${EXE_GUI}" 0
  CreateShortCut "${SM_FOLDER}\${SC_UNINSTALL}" "$INSTDIR\${UNINSTALLER}" "" "$INSTDIR\${UNINSTALLER}" 0
  CreateShortCut "$DESKTOP\${SC_PROGRAM}" "$INSTDIR\${EXE_GUI}" "" "$INSTDIR\${EXE_GUI}" 0

  ; 5. 'Apps & features'.
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP_NAME} (${APP_ID})"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE_GUI},0"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "Comments" "命令行程序：$INSTDIR\${EXE_CLI}"
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

; ---------------------------------------------------------------------------------------------
; Uninstaller: program files, shortcuts and registry values -- nothing under the users' profiles.

Function un.onInit
  SetRegView 64
  SetShellVarContext all
  Call un.CheckNotRunning
FunctionEnd

Section "Uninstall"
  SetRegView 64
  SetShellVarContext all
  Call un.CheckNotRunning

  ; Named files only (never RMDir /r "$INSTDIR": it may have been chosen as an existing folder).
  Delete "$INSTDIR\${EXE_GUI}"
  Delete "$INSTDIR\${EXE_CLI}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"  ; only if empty

  Delete "${SM_FOLDER}\${SC_PROGRAM}"
  Delete "${SM_FOLDER}\${SC_UNINSTALL}"
  RMDir "${SM_FOLDER}"
  Delete "$DESKTOP\${SC_PROGRAM}"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DetailPrint "$(MSG_DATA_KEPT)"
SectionEnd
