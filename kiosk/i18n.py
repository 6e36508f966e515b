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
        "materials.to_confirm": ("待确认", "to confirm"),
        "materials.corrected": ("已更正", "corrected"),
        "materials.pending": (
            "请确认页面和标出的内容后继续",
            "Confirm the pages and the marked fields to go on",
        ),
    }
)
