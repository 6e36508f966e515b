"""What the screen says, by translation key.  Simplified Chinese first, English second.

Enum values and codes elsewhere are stable identifiers; text comes from here
(or, for item-specific text such as review reasons, from the item's package).
"""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

_TEXTS: dict[str, tuple[str, str]] = {
    # attract / global
    "app.title": ("政务服务自助终端", "Government Services Self-Service Terminal"),
    "attract.welcome": ("欢迎使用政务服务自助终端", "Welcome to the self-service terminal"),
    "attract.touch": ("点击屏幕开始办理", "Touch the screen to start"),
    "attract.hint": ("请准备好您的居民身份证", "Please have your resident ID card ready"),
    "common.cancel": ("取消办理", "Cancel"),
    "common.next": ("下一步", "Next"),
    "common.back": ("返回", "Back"),
    "common.retry": ("重试", "Try again"),
    "common.confirm": ("确认", "Confirm"),
    "common.language": ("English", "中文"),
    "common.please_wait": ("请稍候……", "Please wait…"),
    "common.done": ("完成", "Done"),
    # steps (progress bar)
    "step.attract": ("首页", "Start"),
    "step.choose_item": ("选择事项", "Choose service"),
    "step.read_card": ("读取身份证", "ID card"),
    "step.face_check": ("人脸核验", "Face check"),
    "step.form": ("填写表单", "Form"),
    "step.materials": ("扫描材料", "Materials"),
    "step.review": ("智能审查", "Review"),
    "step.confirm_sign": ("确认签名", "Sign"),
    "step.submit": ("提交", "Submit"),
    "step.result": ("办理结果", "Result"),
    "step.rating": ("评价", "Rating"),
    "step.device_problem": ("设备异常", "Device problem"),
    "step.staff_assist": ("人工协助", "Staff assistance"),
    "step.out_of_service": ("暂停服务", "Out of service"),
    # choose item
    "items.title": ("请选择要办理的事项", "Choose the service you need"),
    "items.search": ("输入事项名称或拼音首字母", "Search by name or pinyin initials"),
    "items.conditions": ("办理条件", "Conditions"),
    "items.materials": ("所需材料", "Materials"),
    "items.time_limit": ("承诺时限", "Time limit"),
    "items.days": ("{n} 个工作日", "{n} working days"),
    "items.on_the_spot": ("即办", "On the spot"),
    "items.no_materials": ("无需提交材料", "No materials needed"),
    "items.start": ("开始办理", "Start"),
    # ID card
    "card.title": ("请将居民身份证放在读卡区", "Place your resident ID card on the reader"),
    "card.reading": ("正在读取身份证，请勿移动……", "Reading the card, do not move it…"),
    "card.expired": ("身份证件已过期", "The ID card has expired"),
    "card.read_ok": ("身份证读取成功", "ID card read"),
    # face
    "face.title": ("请正对摄像头，保持不动", "Look at the camera and hold still"),
    "face.matched": ("人脸核验通过", "Face verified"),
    "face.not_matched": ("人脸核验未通过，请重试", "Face check failed, please try again"),
    "face.staff": (
        "人脸核验多次未通过，请到窗口由工作人员核验身份",
        "Face check failed several times: staff will verify your identity",
    ),
    "face.quality.ok": ("很好，请保持", "Good, hold still"),
    "face.quality.no_face": ("未检测到人脸，请正对摄像头", "No face found: look at the camera"),
    "face.quality.multiple_faces": ("检测到多张人脸，请只保留一人", "Several faces: only one person please"),
    "face.quality.too_small": ("请靠近一些", "Please come closer"),
    "face.quality.too_dark": ("光线太暗", "Too dark"),
    "face.quality.blurred": ("画面模糊，请保持不动", "Blurred: hold still"),
    # form
    "form.title": ("请核对并补充申请信息", "Check and complete the application"),
    "form.required": ("此项为必填项", "This field is required"),
    "form.invalid": ("格式不正确", "Invalid format"),
    "form.prefilled": ("已自动填写", "Filled in for you"),
    # materials
    "materials.title": ("请将材料平放在高拍仪下", "Place the document under the document camera"),
    "materials.capture": ("拍摄材料", "Capture"),
    "materials.recognising": ("正在识别材料……", "Reading the document…"),
    "materials.extracted": ("识别结果", "What we read"),
    "materials.match": ("一致", "matches"),
    "materials.mismatch": ("不一致", "does not match"),
    "materials.none_needed": ("本事项无需扫描材料", "No documents needed for this service"),
    # review
    "review.title": ("智能审查", "Intelligent review"),
    "review.running": ("正在审查，请稍候……", "Reviewing…"),
    "review.warning_title": ("审慎提示", "Please note"),
    "outcome.approve": ("审查通过", "Approved"),
    "outcome.reject": ("不予受理", "Not accepted"),
    "outcome.manual": ("转人工审核", "Passed to manual review"),
    "outcome.approve.detail": (
        "符合办理条件，提交后即可办结",
        "You meet the conditions; the case completes on submission",
    ),
    "outcome.reject.detail": ("不符合办理条件，原因如下", "The application cannot be accepted because"),
    "outcome.manual.detail": (
        "您的申请将由工作人员审核，结果将通过短信通知",
        "Staff will review your application and notify you",
    ),
    "reason.review_timeout": (
        "智能审查超时，已转人工审核",
        "The review took too long and was passed to staff",
    ),
    "reason.review_error": ("智能审查出错，已转人工审核", "The review failed and was passed to staff"),
    "reason.staff_identity": ("身份由工作人员核验", "Identity checked by staff"),
    # sign / submit
    "sign.title": ("请确认信息并在下方签名", "Confirm and sign below"),
    "sign.hint": ("请用手指在下方白色区域内签名", "Sign with your finger in the white area below"),
    "sign.clear": ("重新签名", "Clear"),
    "sign.submit": ("确认提交", "Submit"),
    "sign.empty": ("请先签名", "Please sign first"),
    "submit.running": ("正在提交……", "Submitting…"),
    # result
    "result.title": ("办理结果", "Result"),
    "result.case_id": ("办件编号", "Case number"),
    "result.printing": ("正在打印回执，请取走", "Printing your receipt, please take it"),
    "result.printed": ("回执已打印，请取走", "Receipt printed, please take it"),
    "result.print_failed": (
        "回执打印失败，请到窗口领取",
        "The receipt could not be printed: ask at the counter",
    ),
    "result.certificate_printed": (
        "证照已打印，请在出证口取走",
        "Certificate printed: take it from the tray",
    ),
    "result.queued": ("网络繁忙，已安全保存，将自动上传", "Saved safely; it will be uploaded automatically"),
    "result.acknowledged": ("已提交至政务服务平台", "Received by the service platform"),
    # rating
    "rating.title": ("请对本次服务进行评价", "How was the service?"),
    "rating.very_good": ("非常满意", "Very good"),
    "rating.good": ("满意", "Good"),
    "rating.fair": ("基本满意", "Fair"),
    "rating.bad": ("不满意", "Poor"),
    "rating.very_bad": ("非常不满意", "Very poor"),
    "rating.thanks": ("感谢您的评价", "Thank you"),
    # idle / cancel
    "idle.warning": (
        "您已长时间未操作，{s} 秒后将退出并清除信息",
        "No activity: the session ends in {s} s and your data is wiped",
    ),
    "idle.continue": ("继续办理", "Continue"),
    # problems
    "problem.title": ("设备暂时无法使用", "A device is not available"),
    "problem.idcard": ("身份证阅读器异常", "The ID card reader has a problem"),
    "problem.camera": ("摄像头异常", "The camera has a problem"),
    "problem.document_camera": ("高拍仪异常", "The document camera has a problem"),
    "problem.receipt_printer": ("回执打印机异常", "The receipt printer has a problem"),
    "problem.document_printer": ("证照打印机异常", "The certificate printer has a problem"),
    "problem.platform": ("政务服务平台暂时无法连接", "The service platform cannot be reached"),
    "problem.storage": ("终端存储异常", "The terminal's storage has a problem"),
    "problem.card_removed": (
        "读卡时身份证被移开，请重新放置",
        "The card was moved while reading: place it again",
    ),
    "problem.to_manual": ("转人工审核继续办理", "Continue with manual review"),
    "action.retry": ("请重试", "Please try again"),
    "action.wait": ("设备正在恢复，请稍候", "The device is recovering, please wait"),
    "action.reset": ("设备正在重置", "The device is being reset"),
    "action.clear_by_staff": ("请联系大厅工作人员处理", "Please ask the hall staff for help"),
    "action.maintenance": (
        "需要技术人员维修，请到人工窗口办理",
        "An engineer is needed: please go to a counter",
    ),
    "action.none": ("", ""),
    "oos.title": ("本终端暂停服务", "This terminal is out of service"),
    "oos.detail": ("请到其他终端或人工窗口办理", "Please use another terminal or a counter"),
}

_default: list[Language] = ["zh"]


def set_language(lang: Language) -> None:
    _default[0] = lang


def language() -> Language:
    return _default[0]


def tr(key: str, lang: Language | None = None, **fmt: object) -> str:
    """The text for ``key`` in ``lang`` (the current language by default).

    An unknown key returns the key itself, so a missing translation shows up
    on screen and in tests instead of crashing the terminal."""
    pair = _TEXTS.get(key)
    if pair is None:
        return key
    text = pair[0] if (lang or _default[0]) == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def has_key(key: str) -> bool:
    return key in _TEXTS


def bilingual(zh: str, en: str, lang: Language | None = None) -> str:
    """Pick one of a (zh, en) pair that came as data (item names, reasons)."""
    return zh if (lang or _default[0]) == "zh" else (en or zh)


__all__ = ["Language", "bilingual", "has_key", "language", "set_language", "tr"]

_TEXTS.update(
    {
        "form.error.required": ("此项为必填项", "This field is required"),
        "form.error.too_long": ("内容过长", "Too long"),
        "form.error.phone": ("请输入正确的手机号码", "Enter a valid mobile number"),
        "form.error.date": ("请输入正确的日期", "Enter a valid date"),
        "form.error.number": ("请输入数字", "Enter a number"),
        "form.error.id_number": ("身份证号码不正确", "Invalid ID number"),
        "form.error.option": ("请从选项中选择", "Choose one of the options"),
        "form.error.pattern": ("格式不正确", "Invalid format"),
    }
)

# ---- h-outputs: delivery choice (confirm/sign screen), receipts in the session's language, slips
_TEXTS.update(
    {
        "delivery.title": ("领取方式", "How to receive the result"),
        "delivery.print_here": ("本机打印", "Print here"),
        "delivery.window": ("窗口领取", "Pick up at the window"),
        "delivery.express": ("快递送达", "Express delivery"),
        "delivery.recipient": ("收件人", "Recipient"),
        "delivery.mobile": ("手机号码", "Mobile number"),
        "delivery.address": ("收件地址", "Address"),
        "delivery.postal_code": ("邮政编码", "Postal code"),
        "delivery.error.recipient": ("请填写收件人姓名", "Enter the recipient's name"),
        "delivery.error.mobile": ("请输入正确的手机号码", "Enter a valid mobile number"),
        "delivery.error.address_required": ("请填写收件地址", "Enter the delivery address"),
        "delivery.error.address_outside": (
            "该地址不在本大厅的寄递范围内",
            "This address is outside the area the hall delivers to",
        ),
        "delivery.error.address_incomplete": (
            "请填写街道和门牌号",
            "Add the street and house number",
        ),
        "delivery.error.postal_code": ("请输入6位邮政编码", "Enter the 6-digit postal code"),
        "delivery.error.choice": ("请选择领取方式", "Choose how to receive the result"),
        "result.queue_ticket": ("请取排队号 {n}，留意叫号", "Take queue ticket {n} and wait to be called"),
        "result.express": (
            "证照将快递送达，请保持手机畅通",
            "The result will be sent by express; keep your phone at hand",
        ),
        # receipts (kiosk.outputs.render)
        "receipt.title.approve": ("办结回执", "Completion receipt"),
        "receipt.title.manual": ("受理回执", "Acceptance receipt"),
        "receipt.title.reject": ("不予受理告知", "Notice of non-acceptance"),
        "receipt.result.approve": ("准予办理", "Approved"),
        "receipt.result.manual": ("已受理，转人工审核", "Accepted, passed to staff for review"),
        "receipt.result.reject": ("不予受理", "Not accepted"),
        "receipt.reasons.approve": ("审核意见", "Review notes"),
        "receipt.reasons.manual": ("转人工审核原因", "Why staff review it"),
        "receipt.reasons.reject": ("不予受理理由", "Reasons"),
        "receipt.item": ("事项名称：{v}", "Service: {v}"),
        "receipt.case": ("受理编号：{v}", "Case no.: {v}"),
        "receipt.applicant": ("申 请 人：{v}", "Applicant: {v}"),
        "receipt.id_number": ("证件号码：{v}", "ID number: {v}"),
        "receipt.submitted": ("提交时间：{v}", "Submitted: {v}"),
        "receipt.result": ("办理结果：{v}", "Result: {v}"),
        "receipt.reasons": ("{v}：", "{v}:"),
        "receipt.pickup": ("取件方式：{v}", "Delivery: {v}"),
        "receipt.delivery.print_here": (
            "本机打印，请在出证口取走证照",
            "Printed here: take it from the tray",
        ),
        "receipt.delivery.window": (
            "窗口领取，凭取件单及身份证领取",
            "At the window, with the pick-up slip and ID card",
        ),
        "receipt.delivery.window_after_review": (
            "窗口领取，审核通过后凭取件单领取",
            "At the window once approved, with the pick-up slip",
        ),
        "receipt.delivery.express": ("快递送达", "Express delivery"),
        "receipt.delivery.express_after_review": ("审核通过后快递送达", "Sent by express once approved"),
        "receipt.recipient": ("收 件 人：{v}", "Recipient: {v}"),
        "receipt.mobile": ("联系电话：{v}", "Mobile: {v}"),
        "receipt.address": ("收件地址：{v}", "Address: {v}"),
        "receipt.postal_code": ("邮政编码：{v}", "Postal code: {v}"),
        "receipt.queue": ("排 队 号：{v}", "Queue no.: {v}"),
        "receipt.certificate_no": ("证照编号：{v}", "Certificate no.: {v}"),
        "receipt.scan": ("扫码查询办理进度", "Scan to follow your case"),
        "receipt.contact": ("咨询电话 {v}", "Enquiries {v}"),
        "receipt.keep": ("请妥善保管本回执", "Please keep this receipt"),
        "slip.pickup.title": ("取件单", "Pick-up slip"),
        "slip.pickup.ready": (
            "证照已制作，请凭本单及身份证到窗口领取",
            "Ready: collect it at the window with this slip and your ID card",
        ),
        "slip.pickup.after_review": (
            "审核通过后凭本单及身份证到窗口领取",
            "Once approved, collect it at the window with this slip and your ID card",
        ),
        "slip.queue.title": ("排队号", "Queue ticket"),
        "slip.queue.kind.pickup": ("业务类型：窗口取件", "For: pick-up at the window"),
        "slip.queue.kind.review": ("业务类型：人工审核", "For: review by staff"),
        "slip.queue.issued": ("取号时间：{v}", "Issued: {v}"),
        "slip.queue.terminal": ("终端编号：{v}", "Terminal: {v}"),
        "slip.queue.wait": (
            "请留意叫号，过号请重新取号",
            "Wait to be called; a missed number must be taken again",
        ),
        "commitment.case": ("受理编号：{v}", "Case no.: {v}"),
        "commitment.item": ("事项名称：{v}", "Service: {v}"),
        "commitment.applicant": ("承 诺 人：{v}", "Declarant: {v}"),
        "commitment.id_number": ("证件号码：{v}", "ID number: {v}"),
        "commitment.originals": ("需提交原件：", "Originals to present:"),
        "commitment.deadline": ("承诺期限：{v}前", "Deadline: by {v}"),
        "commitment.signature": ("承诺人签名：", "Signature:"),
        "commitment.date": ("签署日期：{v}", "Signed on: {v}"),
    }
)

# --- c-idcard: the applicant's identity document on the confirm screen
_TEXTS.update(
    {
        "applicant.label": ("申请人", "Applicant"),
        "applicant.document.resident_id": ("居民身份证", "Resident ID card"),
        "applicant.document.foreigner_permanent_residence": (
            "外国人永久居留身份证",
            "Foreigner's permanent residence ID card",
        ),
        "applicant.english_name": ("英文姓名", "English name"),
        "applicant.nationality": ("国籍", "Nationality"),
    }
)

# ---------------------------------------------------------------- d-maint: maintenance mode (hall staff)
_TEXTS.update(
    {
        "step.maintenance": ("维护模式", "Maintenance"),
        "maint.title": ("维护模式", "Maintenance mode"),
        "maint.staff": ("工作人员：{staff}", "Staff: {staff}"),
        "maint.leave": ("退出维护", "Leave maintenance"),
        "maint.refresh": ("刷新", "Refresh"),
        "maint.working": ("正在处理……", "Working…"),
        "maint.error": ("操作失败：{error}", "Failed: {error}"),
        "maint.unavailable": ("本终端未配置维护模式", "Maintenance mode is not configured"),
        "maint.tab.diagnostics": ("诊断", "Diagnostics"),
        "maint.tab.consumables": ("耗材", "Consumables"),
        "maint.tab.sync": ("同步", "Sync"),
        "maint.tab.outbox": ("待上传", "Outbox"),
        "maint.tab.logs": ("日志", "Logs"),
        "maint.col.item": ("项目", "Item"),
        "maint.col.state": ("状态", "State"),
        "maint.col.action": ("处理", "Action"),
        "maint.col.case": ("案件编号", "Case id"),
        "maint.col.service": ("事项", "Service"),
        "maint.col.created": ("提交时间", "Submitted"),
        "maint.col.attempts": ("尝试次数", "Attempts"),
        "maint.col.error": ("错误", "Error"),
        "maint.device.idcard": ("身份证阅读器", "ID card reader"),
        "maint.device.camera": ("人脸摄像头", "Face camera"),
        "maint.device.document_camera": ("高拍仪", "Document camera"),
        "maint.device.receipt_printer": ("凭条打印机", "Receipt printer"),
        "maint.device.document_printer": ("证照打印机", "Document printer"),
        "maint.device.barcode": ("扫码器", "Barcode scanner"),
        "maint.device.staff_card": ("工作人员卡读卡器", "Staff card reader"),
        "maint.status.ready": ("正常", "Ready"),
        "maint.status.busy": ("忙", "Busy"),
        "maint.status.no_media": ("无介质", "No media"),
        "maint.status.media_low": ("介质将尽", "Media low"),
        "maint.status.offline": ("离线", "Offline"),
        "maint.status.hardware_error": ("硬件故障", "Hardware error"),
        "maint.status.user_error": ("操作错误", "User error"),
        "maint.action.none": ("无需处理", "Nothing to do"),
        "maint.action.retry": ("重试", "Retry"),
        "maint.action.wait": ("等待设备恢复", "Wait for the device to recover"),
        "maint.action.reset": ("重置设备", "Reset the device"),
        "maint.action.clear_by_staff": (
            "工作人员处理（加纸、清卡纸、合上盖板）",
            "Staff: add paper, clear a jam, close the cover",
        ),
        "maint.action.maintenance": (
            "检查线缆电源，联系技术人员维修",
            "Check cable and power; call the engineer",
        ),
        "maint.platform": ("政务服务平台", "Service platform"),
        "maint.platform.ok": ("可连接（{ms} 毫秒）", "Reachable ({ms} ms)"),
        "maint.platform.down": ("无法连接", "Unreachable"),
        "maint.model.face": ("人脸识别模型", "Face model"),
        "maint.model.ocr": ("文字识别模型", "OCR model"),
        "maint.model.loaded": ("已加载", "Loaded"),
        "maint.model.not_loaded": ("未加载（后台加载中）", "Not loaded (loading in the background)"),
        "maint.disk": ("数据盘", "Data disk"),
        "maint.disk.space": ("可用 {free} / 共 {total}", "{free} free of {total}"),
        "maint.disk.low": ("空间不足，请联系技术人员", "Low on space: call the engineer"),
        "maint.package": ("规则包 {id}", "Rule package {id}"),
        "maint.package.version": ("版本 {version}，上次核验 {at}", "Version {version}, last verified {at}"),
        "maint.package.stale": (
            "超过离线期限：办件转人工审核，请同步",
            "Past its offline age: cases go to manual review; sync",
        ),
        "maint.never": ("从未", "never"),
        "maint.paper": ("凭条纸", "Receipt paper"),
        "maint.paper.present": ("有纸", "Present"),
        "maint.paper.low": ("纸将用尽，请备纸", "Low: have a roll ready"),
        "maint.paper.out": ("缺纸，请加纸", "Out: add paper"),
        "maint.paper.unknown": ("无法读取（打印机离线或故障）", "Unknown (printer offline or in error)"),
        "maint.pending_job": (
            "有一张未打完的凭条待重打",
            "A receipt that did not finish is kept for reprinting",
        ),
        "maint.test_print": ("打印测试页", "Print a test receipt"),
        "maint.test_print.ok": ("测试页已打印", "Test receipt printed"),
        "maint.test_print.failed": ("测试页打印失败：{error}", "Test print failed: {error}"),
        "maint.sync_now": ("立即同步", "Sync now"),
        "maint.sync.hint": (
            "同步事项规则包和预警名单（签名校验），并立即上传待上传的案件",
            "Sync rule packages and warning lists (signature-checked) and push the outbox now",
        ),
        "maint.sync.error": (
            "同步失败：{error}（继续使用上次核验的版本）",
            "Sync failed: {error} (last verified versions keep serving)",
        ),
        "maint.outbox.counts": (
            "待上传 {pending}　已上传 {sent}　失败 {dead}",
            "Pending {pending}   Sent {sent}   Dead {dead}",
        ),
        "maint.outbox.none": ("没有上传失败的案件", "No dead letters"),
        "maint.requeue": ("重新上传", "Requeue"),
        "maint.requeue_all": ("全部重新上传", "Requeue all"),
        "maint.logs.app": ("应用日志", "Application log"),
        "maint.logs.wire": ("设备通信日志", "Device wire log"),
        "maint.logs.empty": ("（无）", "(empty)"),
        "maint.refused.not_staff_card": ("这不是工作人员卡", "This is not a staff card"),
        "maint.refused.unknown_staff": ("工作人员卡未登记或已注销", "Staff card not registered or revoked"),
        "maint.refused.auth_failed": ("工作人员卡认证失败", "Staff card authentication failed"),
        "maint.refused.card_removed": ("卡片已移开，请重新放置", "Card removed, please place it again"),
        "maint.refused.card_error": ("读卡失败，请重试", "Card read failed, please try again"),
    }
)

# a-platform: platform reference photo and QR identity
_TEXTS.update(
    {
        "staff.no_reference_photo": (
            "无法读取身份证照片，平台也没有您的照片，请工作人员核验身份",
            "The card photo cannot be read and the platform holds no photo of you: staff will verify your identity",
        ),
        "card.use_qr": ("使用电子身份证二维码", "Use e-ID QR code"),
        "card.qr_hint": ("请将电子身份证二维码对准扫码口", "Hold your e-ID QR code to the scanner"),
        "card.lift_and_place": (
            "请拿起读卡区上的身份证，再重新放置",
            "Please lift the ID card off the reader and place it again",
        ),
    }
)

# e-face (issue 4): the face screen's remaining quality gates and the liveness challenges
_TEXTS.update(
    {
        "face.quality.too_near": ("请离远一些", "Please move back a little"),
        "face.quality.off_centre": ("请把脸移到框内", "Move your face into the frame"),
        "face.quality.turned_away": ("请正对摄像头", "Please face the camera"),
        "face.quality.eyes_closed": ("请睁开眼睛", "Please open your eyes"),
        "face.quality.backlit": ("背光太强，请调整位置", "Too much light behind you: please move"),
        "face.challenge.blink": ("请眨眨眼", "Please blink"),
        "face.challenge.turn_left": ("请向左转头", "Please turn your head to the left"),
        "face.challenge.turn_right": ("请向右转头", "Please turn your head to the right"),
        "face.challenge.open_mouth": ("请张嘴", "Please open your mouth"),
        "face.liveness_failed": (
            "未能确认是本人在场，请按提示动作后重试",
            "We could not confirm you are present: follow the prompts and try again",
        ),
    }
)

# g-materials: multi-page materials, confirming flagged fields, e-licence reuse
_TEXTS.update(
    {
        "materials.use_elicence": ("使用电子证照", "Use the e-licence"),
        "materials.elicence_used": ("已使用电子证照", "E-licence used"),
        "materials.elicence_hint": (
            "平台已有您的电子证照，可直接使用，无需扫描",
            "The platform holds this as an e-licence: use it, no scan needed",
        ),
        "materials.scan_paper": ("扫描纸质材料", "Scan the paper instead"),
        "materials.add_page": ("添加一页", "Add a page"),
        "materials.page": ("第{n}页", "Page {n}"),
        "materials.retake": ("重拍", "Retake"),
        "materials.delete": ("删除", "Delete"),
        "materials.confirm_pages": ("页面无误，确认", "Pages are right: confirm"),
        "materials.pages_confirmed": ("页面已确认", "Pages confirmed"),
        "materials.check_field": (
            "请核对以下内容，如有错误请修改后确认",
            "Check what we read; correct it if needed, then confirm",
        ),
        "materials.reason.low_confidence": ("识别不够清晰", "not read clearly"),
        "materials.reason.invalid": ("格式可能有误", "looks invalid"),
        "materials.reason.missing": ("未能识别", "not found"),
        "materials.reason.truncated": ("可能未识别完整（换行部分）", "may be cut off (a wrapped line)"),
        "materials.to_confirm": ("待确认", "to confirm"),
        "materials.corrected": ("已更正", "corrected"),
        "materials.pending": (
            "请确认页面和标出的内容后继续",
            "Confirm the pages and the marked fields to go on",
        ),
    }
)
